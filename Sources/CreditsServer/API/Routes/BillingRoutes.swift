import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// `/v1/billing…`, `/v1/credits/purchases…`, `/v1/credits/auto-renew`, `/v1/notices`, `/v1/mail`, `/v1/invoices…`.
struct BillingRoutes {
    let billing: BillingService
    let autoRenew: AutoRenewService
    let plans: PlanService
    let alerts: AlertService
    let notices: NoticeService
    let now: @Sendable () -> Date

    func add(to table: RouteTable, group: RouterGroup<AppRequestContext>) {
        let (billing, autoRenew, plans, alerts, notices, now) = (billing, autoRenew, plans, alerts, notices, now)
        table.add(.get, "/v1/billing", through: group) { _, context in
            try JSONOutput.response(try await billing.view(try context.authenticated()))
        }
        table.add(.put, "/v1/billing/payment-method", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(PaymentMethodInputJSON.self, from: request)
            return try JSONOutput.response(try await billing.setPaymentMethod(principal, input))
        }
        table.add(.patch, "/v1/billing/details", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(BillingDetailsInput.self, from: request)
            return try JSONOutput.response(try await billing.updateDetails(principal, input))
        }
        table.add(.get, "/v1/credits/purchases/quote", through: group) { request, context in
            try await BillingRoutes.quote(request, context, billing: billing)
        }
        table.add(.post, "/v1/credits/purchases", through: group) { request, context in
            let principal = try context.authenticated()
            let key = try request.idempotencyKey()
            let input = try await JSONInput.decode(PurchaseInput.self, from: request)
            let purchase = try await billing.purchase(principal, input, idempotencyKey: key)
            return try JSONOutput.response(purchase, status: purchase.replayed ? .ok : .created)
        }
        table.add(.get, "/v1/credits/purchases", through: group) { request, context in
            let principal = try context.authenticated()
            let limit = try QueryValues.limit(request.query("limit"), fallback: 50, maximum: 500)
            let views = try await billing.purchases(
                principal,
                after: try QueryValues.recencyCursor(request.query("cursor")),
                limit: limit
            )
            let next =
                views.count == limit
                ? views.last.map { RecencyCursor(milliseconds: $0.createdAt.milliseconds, id: $0.id).text } : nil
            return try JSONOutput.response(Page(data: views, nextCursor: next))
        }
        table.add(.get, "/v1/billing/transactions", through: group) { request, context in
            let principal = try context.authenticated()
            let now = now()
            let since = try QueryValues.instant(request.query("since"), field: "since", now: now)
            let until = try QueryValues.instant(request.query("until"), field: "until", now: now)
            // Checked whatever the format: a CSV has every line, so it does not use them.
            let limit = try QueryValues.limit(request.query("limit"), fallback: 200, maximum: 1000)
            let cursor = try QueryValues.statementCursor(request.query("cursor"))
            if try request.wantsCSV() {
                return try await BillingStatementCSV.download(filename: "billing-\(principal.organizationID).csv") {
                    last in
                    try await billing.transactions(
                        principal,
                        since: since,
                        until: until,
                        after: last.map(StatementPosition.init(after:))
                    )
                }
            }
            let lines = try await billing.transactions(
                principal,
                since: since,
                until: until,
                after: cursor,
                limit: limit
            )
            let next = lines.count == limit ? lines.last.map { QueryValues.statementCursor(after: $0) } : nil
            return try JSONOutput.response(Page(data: lines, nextCursor: next))
        }
        table.add(.get, "/v1/credits/auto-renew", through: group) { _, context in
            try JSONOutput.response(try await autoRenew.view(try context.authenticated()))
        }
        table.add(.put, "/v1/credits/auto-renew", through: group) { request, context in
            let principal = try context.authenticated()
            let input = try await JSONInput.decode(AutoRenewInput.self, from: request)
            return try JSONOutput.response(try await autoRenew.update(principal, input))
        }
        table.add(.get, "/v1/billing/plan", through: group) { _, context in
            let principal = try context.authenticated()
            guard let plan = try await plans.view(principal) else {
                throw NotFoundError("A plan for this organisation")
            }
            return try JSONOutput.response(plan)
        }
        table.add(.get, "/v1/mail", through: group) { request, context in
            let principal = try context.authenticated()
            let limit = try QueryValues.limit(request.query("limit"), fallback: 50, maximum: 500)
            let mail = try await alerts.mail(
                principal,
                after: try QueryValues.recencyCursor(request.query("cursor")),
                limit: limit
            )
            let next =
                mail.count == limit
                ? mail.last.map { RecencyCursor(milliseconds: $0.createdAt.milliseconds, id: $0.id).text } : nil
            return try JSONOutput.response(Page(data: mail, nextCursor: next))
        }
        table.add(.get, "/v1/notices", through: group) { _, context in
            try JSONOutput.response(Page(data: try await notices.notices(try context.authenticated()), nextCursor: nil))
        }
        table.add(.get, "/v1/invoices/{id}", through: group) { request, context in
            let principal = try context.authenticated()
            let invoice = try await billing.invoice(try context.parameter("id"), principal: principal)
            guard
                try request.format(among: ["html", "json"]) == "html"
                    || (request.headers[.accept]?.contains("text/html") ?? false)
            else {
                return try JSONOutput.response(invoice)
            }
            return WebResponse.document(invoice.html())
        }
    }
}

extension BillingRoutes {
    /// The price of `?credits=N` (the API's quote and the purchase box's running total).
    static func quote(_ request: Request, _ context: AppRequestContext, billing: BillingService) async throws
        -> Response
    {
        let principal = try context.authenticated()
        guard let text = request.query("credits"), text.allSatisfy(\.isASCII), let credits = Int64(text) else {
            throw APIError(
                .badRequest,
                "query_invalid",
                "credits must be a whole number (purchases are 1–10,000,000 credits).",
                field: "credits"
            )
        }
        return try JSONOutput.response(try billing.quote(principal, credits: credits))
    }
}
