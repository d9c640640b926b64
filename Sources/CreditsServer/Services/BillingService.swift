import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Hummingbird
import Logging

/// Buying credits: prices and tax, the payment method on file, purchases charged through the
/// gateway before any credit is added, numbered invoices, and reconciliation of purchases a
/// crash or a lost answer left pending.
public struct BillingService: Sendable {
    let services: AppServices
    /// A purchase left pending this long is settled by the maintenance worker (a live request
    /// is given the gateway's whole timeout first).
    public static let reconcileAfter: TimeInterval = 60

    var store: BillingStore { services.billingStore }

    // MARK: Profile

    /// `GET /v1/billing`.
    public func view(_ principal: Principal) async throws -> BillingView {
        guard principal.can(.purchaseCredits) || principal.can(.manageSettings) else { throw APIError.forbidden(.purchaseCredits) }
        let profile = try await store.profile(principal.organizationID)
        let prices = services.configuration.creditPrices
        let country = principal.organization.country
        let pricesView = prices.terms[country].map { terms in
            BillingView.PricesView(country: country.rawValue, currency: prices.currency,
                                   unitPrice: Money.format(hundredthsOfCent: terms.unitPriceHundredthsOfCent),
                                   monthlyFee: terms.monthlyFeeCents > 0 ? MoneyView(terms.monthlyFeeCents, currency: prices.currency) : nil,
                                   tax: terms.tax.map { "\($0.name) \(QuoteView.percent($0.rateBasisPoints))" }, purchaseMinimum: prices.purchaseMinimum)
        }
        return BillingView(gateway: services.gateway.name, paymentMethod: profile?.method.map(BillingService.methodView),
                           legalName: profile?.legalName, taxID: profile?.taxID, address: profile?.address, email: profile?.billingEmail,
                           prices: pricesView)
    }

    static func methodView(_ method: PaymentMethodDetails) -> BillingView.MethodView {
        BillingView.MethodView(kind: method.kind.rawValue, brand: method.brand, last4: method.last4, expMonth: method.expMonth, expYear: method.expYear,
                               description: method.description)
    }

    /// `PUT /v1/billing/payment-method`: the gateway tokenises what was given; we keep the token.
    public func setPaymentMethod(_ principal: Principal, _ input: PaymentMethodInputJSON) async throws -> BillingView {
        try principal.require(.purchaseCredits)
        let organization = principal.organization
        var profile = try await store.profile(organization.id)
            ?? BillingProfile(organizationID: organization.id, gateway: services.gateway.name, updatedAt: services.now())
        let customer = PaymentCustomer(id: profile.gateway == services.gateway.name ? profile.customerID : nil, name: profile.legalName ?? organization.name,
                                       email: profile.billingEmail ?? principal.staff.email, organizationID: organization.id.rawValue)
        let registered: RegisteredPaymentMethod
        do {
            registered = try await services.gateway.register(try input.method(), for: customer)
        } catch let error as PaymentError {
            throw BillingService.apiError(error)
        }
        let method = registered.method
        profile.gateway = services.gateway.name
        profile.customerID = registered.customerID
        profile.method = method
        profile.updatedAt = services.now()
        try await store.save(profile, audit: AuditRecord(
            organization: organization.id, actor: principal.actor, action: "billing.payment_method_updated",
            message: "Payment method on file set to \(method.brand) ending \(method.last4).", subjectType: "organization",
            subjectID: organization.id.rawValue, at: profile.updatedAt))
        try await services.autoRenew.retryAfterPaymentMethodUpdate(organization)
        return try await view(principal)
    }

    /// `PATCH /v1/billing/details`: legal name, tax id, address and email for invoices.
    public func updateDetails(_ principal: Principal, _ input: BillingDetailsInput) async throws -> BillingView {
        try principal.require(.purchaseCredits)
        let organization = principal.organization
        var profile = try await store.profile(organization.id)
            ?? BillingProfile(organizationID: organization.id, gateway: services.gateway.name, updatedAt: services.now())
        func text(_ value: String?, _ field: String, limit: Int) throws -> String? {
            guard let value else { return nil }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.count <= limit else { throw APIError(.unprocessableContent, "field_too_long", "\(field) has more than \(limit) characters.", field: field) }
            return trimmed
        }
        if let name = try text(input.legalName, "legal_name", limit: 200) { profile.legalName = name.isEmpty ? nil : name }
        if let taxID = try text(input.taxID, "tax_id", limit: 50) { profile.taxID = taxID.isEmpty ? nil : taxID }
        if let address = try text(input.address, "address", limit: 500) { profile.address = address.isEmpty ? nil : address }
        if let email = try text(input.email, "email", limit: 254) {
            guard email.isEmpty || (email.contains("@") && !email.contains(" ")) else { throw APIError.invalid("email", "The email address is not valid.") }
            profile.billingEmail = email.isEmpty ? nil : email
        }
        profile.updatedAt = services.now()
        try await store.save(profile, audit: AuditRecord(
            organization: organization.id, actor: principal.actor, action: "billing.details_updated", message: "Billing details updated.",
            subjectType: "organization", subjectID: organization.id.rawValue, at: profile.updatedAt))
        return try await view(principal)
    }

    // MARK: Purchases

    /// `GET /v1/credits/purchases/quote?credits=N`: what a purchase would cost, tax included.
    public func quote(_ principal: Principal, credits: Int64) throws -> QuoteView {
        try principal.require(.purchaseCredits)
        return QuoteView(try price(credits, for: principal.organization))
    }

    func price(_ credits: Int64, for organization: Organization) throws -> Quote {
        do {
            return try services.configuration.creditPrices.quote(credits: credits, country: organization.country)
        } catch {
            let status: HTTPResponse.Status = error == .notSelfServe(organization.country) ? .conflict : .unprocessableContent
            throw APIError(status, error.code, error.message, field: "credits")
        }
    }

    /// `POST /v1/credits/purchases`: charges the method on file, then adds purchased (never
    /// expiring) credits to the pool or a wallet and issues the invoice. A repeated key returns
    /// the first purchase; a declined charge adds nothing.
    public func purchase(_ principal: Principal, _ input: PurchaseInput, idempotencyKey: String) async throws -> PurchaseView {
        try principal.require(.purchaseCredits)
        let organization = principal.organization
        let quote = try price(input.credits, for: organization)
        let (account, staff) = try await services.credits.account(input.wallet ?? "pool", principal: principal, field: "wallet")
        let profile = try await store.profile(organization.id)
        guard let method = profile?.method else {
            throw APIError(.conflict, "payment_method_required", "Add a payment method (PUT /v1/billing/payment-method) before buying credits.")
        }
        let (settled, replayed) = try await buy(quote, for: organization, into: account.id, kind: .manual, actor: principal.actor, key: idempotencyKey,
                                                profile: profile, method: method, fallbackEmail: principal.staff.email)
        let wallet = staff?.id ?? "pool"
        switch settled.status {
        case .succeeded: return PurchaseView(settled, wallet: wallet, replayed: replayed)
        case .failed:
            throw APIError(.paymentRequired402, settled.failureCode ?? "payment_declined",
                           "The payment was declined (\(settled.failureMessage ?? "no reason given")). No credits were added.")
        case .pending:
            throw APIError(.serviceUnavailable, "payment_unconfirmed",
                           "The payment gateway did not confirm the charge. No credits were added yet; the purchase \(settled.id) is completed or declined automatically within minutes — repeat the request with the same Idempotency-Key to see its outcome.")
        }
    }

    /// Records a purchase under `key` — or finds the one recorded before, refusing a different
    /// request under the same key — and charges it while it is pending. Returns the purchase and
    /// whether it was recorded by an earlier request.
    func buy(_ quote: Quote, for organization: Organization, into account: AccountID, kind: Purchase.Kind, actor: Actor, key: String,
             profile: BillingProfile?, method: PaymentMethodDetails, fallbackEmail: String?) async throws -> (purchase: Purchase, replayed: Bool) {
        let candidate = Purchase(id: Identifier.make("pur_"), organizationID: organization.id, idempotencyKey: key,
                                 fingerprint: "\(quote.credits)|\(account)", accountID: account, kind: kind, actor: actor, quote: quote,
                                 methodToken: method.token, methodDescription: method.description, customerID: profile?.customerID,
                                 parties: parties(profile, organization: organization, fallbackEmail: fallbackEmail), createdAt: services.now())
        let stored = try await store.begin(candidate)
        guard stored.fingerprint == candidate.fingerprint else {
            throw APIError(.conflict, "idempotency_conflict", "This Idempotency-Key was already used for a different purchase.")
        }
        return (stored.status == .pending ? try await settle(stored) : stored, stored.id != candidate.id)
    }

    /// The seller (configured) and the buyer (billing details, else the organisation's name).
    func parties(_ profile: BillingProfile?, organization: Organization, fallbackEmail: String?) -> InvoiceParties {
        let seller = services.configuration.seller
        return InvoiceParties(
            seller: .init(name: seller.name, address: seller.address, taxID: seller.taxID),
            buyer: .init(name: profile?.legalName ?? organization.name, address: profile?.address, taxID: profile?.taxID,
                         email: profile?.billingEmail ?? fallbackEmail))
    }

    /// Charges a pending purchase (the purchase id is the gateway's idempotency key, so this is
    /// safe to repeat) and completes or fails it. An unknown outcome leaves it pending.
    func settle(_ purchase: Purchase) async throws -> Purchase {
        precondition(purchase.status == .pending, "only pending purchases are charged")
        let request = ChargeRequest(amountCents: purchase.quote.totalCents, currency: purchase.quote.currency, customerID: purchase.customerID,
                                    paymentMethodToken: purchase.methodToken, idempotencyKey: purchase.id,
                                    description: "\(purchase.quote.credits) SMS credits")
        let instant = services.now()
        let credits = purchase.quote.credits
        let total = Money.format(cents: purchase.quote.totalCents, currency: purchase.quote.currency)
        do {
            let charge = try await services.gateway.charge(request)
            let target = try await destinationName(purchase)
            return try await store.complete(purchase.id, chargeID: charge.id, at: instant, audit: AuditRecord(
                organization: purchase.organizationID, actor: purchase.actor, action: purchase.kind == .autoRenew ? "credits.auto_renewed" : "credits.purchased",
                message: "Purchased \(credits) SMS credits for \(total) (invoice {{invoice}}) into \(target). Balance {{balance_after}}.",
                subjectType: "purchase", subjectID: purchase.id, at: instant))
        } catch let error as PaymentError where error.isFinal {
            return try await store.fail(purchase.id, code: error.code, message: error.message, at: instant, audit: AuditRecord(
                organization: purchase.organizationID, actor: purchase.actor, action: "credits.purchase_failed",
                message: "Purchase of \(credits) SMS credits for \(total) failed: \(error.message) No credits added.",
                subjectType: "purchase", subjectID: purchase.id, at: instant))
        } catch let error as PaymentError {
            services.logger.warning("purchase left pending", metadata: ["purchase": "\(purchase.id)", "code": "\(error.code)", "reason": "\(error.message)"])
            return purchase
        }
    }

    /// "the pool" or "Dana Lee's credits".
    func destinationName(_ purchase: Purchase) async throws -> String {
        let staff = try await services.organizations.staff(of: purchase.organizationID).first { $0.wallet == purchase.accountID }
        return staff.map { "\($0.name)'s credits" } ?? "the pool"
    }

    /// Settles purchases left pending (a crash between charge and credit, or a lost answer);
    /// returns how many reached a final status.
    @discardableResult
    public func reconcile() async throws -> Int {
        let pending = try await store.pending(before: services.now().addingTimeInterval(-BillingService.reconcileAfter), limit: 100)
        var finished = 0
        for purchase in pending where try await settle(purchase).status != .pending { finished += 1 }
        return finished
    }

    /// `GET /v1/credits/purchases`.
    public func purchases(_ principal: Principal, after cursor: RecencyCursor?, limit: Int) async throws -> [PurchaseView] {
        guard principal.can(.purchaseCredits) || principal.can(.viewLogs) else { throw APIError.forbidden(.purchaseCredits) }
        let purchases = try await store.purchases(of: principal.organizationID, succeededOnly: false, after: cursor, limit: limit)
        return try await views(purchases, of: principal.organizationID)
    }

    /// One purchase (the portal's confirmation page).
    public func purchase(_ id: String, principal: Principal) async throws -> PurchaseView {
        guard principal.can(.purchaseCredits) || principal.can(.viewLogs) else { throw APIError.forbidden(.purchaseCredits) }
        guard let purchase = try await store.purchase(id, of: principal.organizationID) else { throw APIError.notFound("Purchase \(id)") }
        return try await views([purchase], of: principal.organizationID)[0]
    }

    func views(_ purchases: [Purchase], of organization: OrganizationID) async throws -> [PurchaseView] {
        let staff = try await services.organizations.staff(of: organization)
        return purchases.map { purchase in PurchaseView(purchase, wallet: staff.first { $0.wallet == purchase.accountID }?.id ?? "pool") }
    }

    /// `GET /v1/invoices/{id}`: the invoice of a paid purchase.
    public func invoice(_ id: String, principal: Principal) async throws -> InvoiceView {
        guard principal.can(.purchaseCredits) || principal.can(.viewLogs) else { throw APIError.forbidden(.purchaseCredits) }
        guard let purchase = try await store.purchase(id, of: principal.organizationID), purchase.status == .succeeded else {
            throw APIError.notFound("The invoice")
        }
        return InvoiceView(purchase, wallet: try await destinationName(purchase))
    }

    /// A gateway refusal of a payment method as an API error.
    static func apiError(_ error: PaymentError) -> APIError {
        switch error.kind {
        case .invalid, .expired: APIError(.unprocessableContent, error.code, error.message, field: "payment_method")
        case .declined, .insufficientFunds, .authenticationRequired: APIError(.paymentRequired402, error.code, error.message)
        case .temporary, .configuration: APIError(.badGateway, "gateway_unavailable", "The payment gateway could not be reached; try again.")
        }
    }
}
