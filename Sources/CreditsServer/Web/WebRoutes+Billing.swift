import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Buying credits: the purchase box with its running total, the card on file, the confirmation
/// with the tax invoice / receipt (print and download).
extension WebRoutes {
    func addBilling(to portal: RouterGroup<AppRequestContext>) {
        let (pages, billing) = (pages, billing)
        let routes = self
        portal.get("/credits/buy") { request, context in
            try await routes.buyPage(request, context, typed: nil, error: nil)
        }
        portal.post("/credits/buy") { _, context in
            try await WebRoutes.submit(context, back: "/credits/buy") { principal, form in
                let input = try form.input(
                    PurchaseInput.self,
                    [
                        "credits": .number, "bucket": .optionalText, "wallet": .optionalText,
                        "billing_details.name": .optionalText, "billing_details.email": .optionalText,
                        "billing_details.address": .optionalText,
                    ]
                )
                let purchase = try await billing.purchase(principal, input, idempotencyKey: try form.idempotencyKey())
                let whose = purchase.wallet == "pool" ? "the system credits" : "the chosen wallet"
                return ("/credits/purchases/\(purchase.id)", "\(purchase.credits) credits purchased into \(whose).")
            }
        }
        // A card or a bank account (ACH debit); a refused one shows the page again with what was
        // typed, except the card and account numbers.
        portal.post("/billing/payment-method") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let schema: [String: WebForm.Kind] =
                    form.value("kind") == "bank_account"
                    ? [
                        "bank_account.routing_number": .text, "bank_account.account_number": .text,
                        "bank_account.holder_name": .text,
                    ]
                    : ["card.number": .optionalText, "card.exp_month": .number, "card.exp_year": .number]
                let view = try await billing.setPaymentMethod(
                    principal,
                    try form.input(PaymentMethodInputJSON.self, schema)
                )
                return WebResponse.redirect(
                    "/credits/buy",
                    notice: "Payment method saved: \(view.paymentMethod?.description ?? "card")."
                )
            } refused: { message in
                try await routes.buyPage(request, context, typed: form, error: message)
            }
        }
        portal.get("/credits/purchases/:id") { request, context in
            let principal = try context.authenticated()
            let purchase = try await billing.purchase(try context.parameter("id"), principal: principal)
            let zone = principal.organization.zone
            var values: [String: Any] = [
                "purchase": try JSONValue.of(purchase).template,
                "created": WebFormat.time(purchase.createdAt, in: zone),
                "succeeded": purchase.status == .succeeded,
            ]
            if purchase.invoice != nil { values["invoice_id"] = purchase.id }
            return try await pages.page(
                "purchase",
                title: "Purchase",
                section: "buy",
                request: request,
                context: context,
                values: values
            )
        }
        portal.get("/invoices/:id") { request, context in
            let invoice = try await billing.invoice(try context.parameter("id"), principal: try context.authenticated())
            if request.uri.queryParameters.get("download") != nil {
                return WebResponse.download(
                    invoice.html(),
                    contentType: "text/html; charset=utf-8",
                    filename: "\(invoice.number).html"
                )
            }
            return WebResponse.document(invoice.html())
        }
        portal.get("/app/quote") { request, context in try await BillingRoutes.quote(request, context, billing: billing)
        }
    }

    /// The purchase box with its running total, and the payment method forms (card or bank account).
    func buyPage(_ request: Request, _ context: AppRequestContext, typed: WebForm?, error: String?)
        async throws -> Response
    {
        let principal = try context.authenticated()
        try WebPages.require("buy", principal)
        let profile = try await billing.view(principal)
        // Which wallet: the system credits and everyone's for buyers and master users (Agentbox:
        // "System Credits (Master Users Only) or User Credits"), else one's own.
        let master = principal.can(.purchaseCredits) || principal.can(.manageUserCredits)
        var wallets: [[String: Any]] = []
        if master { wallets.append(["id": "pool", "name": "System credits", "selected": true]) }
        if principal.organization.creditMode == .individual {
            for wallet in try await credits.view(principal).wallets {
                guard let id = wallet.staffID, master || id == principal.staff.id else { continue }
                let name = id == principal.staff.id ? "My credits (\(wallet.staffName ?? id))" : wallet.staffName ?? id
                wallets.append(["id": id, "name": name, "selected": !master && id == principal.staff.id])
            }
        }
        let buckets = try await subscriptions.offered(principal).compactMap { plan -> [String: Any]? in
            guard let monthly = plan.cycles.first(where: { $0.cycle == "monthly" }) else { return nil }
            return [
                "id": plan.id, "name": plan.name, "credits": Credits(credits: plan.creditsPerMonth).decimalString,
                "price": monthly.price.text, "total": monthly.total.text,
            ]
        }
        let minimum = profile.prices?.purchaseMinimum ?? 1
        let quantity =
            request.uri.queryParameters.get("credits").flatMap { Int64($0) }.map { max($0, minimum) } ?? minimum
        var values: [String: Any] = [
            "billing": try JSONValue.of(profile).template,
            "quantity": String(quantity), "minimum": String(minimum),
            "quote": try JSONValue.of(try billing.quote(principal, credits: quantity)).template,
            "idempotency_key": APIKeys.randomText(bytes: 16),
            "sandbox": profile.gateway == "sandbox",
        ]
        values["has_method"] = profile.paymentMethod != nil
        values["can_set_method"] = principal.can(.purchaseCredits)
        values["wallets"] = wallets
        values["choose_wallet"] = wallets.count > 1
        values["only_wallet"] = wallets.count == 1 ? wallets[0]["id"] as? String ?? "pool" : ""
        values["buckets"] = buckets
        values["has_buckets"] = !buckets.isEmpty
        // A refused bank account keeps its routing number and holder (never the account number).
        if let typed, typed.value("kind") == "bank_account" {
            values["bank_typed"] = true
            values["routing_number"] = typed.value("bank_account.routing_number") ?? ""
            values["holder_name"] = typed.value("bank_account.holder_name") ?? ""
        } else if let typed {
            values["exp_month"] = typed.value("card.exp_month") ?? ""
            values["exp_year"] = typed.value("card.exp_year") ?? ""
        }
        return try await pages.page(
            "buy",
            title: "Buy credits",
            section: "buy",
            request: request,
            context: context,
            values: values,
            refusal: error
        )
    }
}
