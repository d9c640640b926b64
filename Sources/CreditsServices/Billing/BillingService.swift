import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Logging

/// Buying credits: prices and tax, the payment method on file, purchases charged through the
/// gateway before any credit is added, numbered invoices, and reconciliation of purchases a
/// crash or a lost answer left pending. A new payment method is reported as a fact (auto-renew
/// retries a declined charge with it).
public struct BillingService: Sendable {
    let store: BillingStore
    let database: any Database
    let ledgerStore: SQLLedgerStore
    let credits: CreditService
    let organizations: OrganizationStore
    let gateway: any PaymentGateway
    let creditPrices: CreditPrices
    let seller: Seller
    let catalogue: PlanCatalogueStore
    let facts: Facts
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        store: BillingStore,
        database: any Database,
        ledgerStore: SQLLedgerStore,
        credits: CreditService,
        organizations: OrganizationStore,
        gateway: any PaymentGateway,
        creditPrices: CreditPrices,
        seller: Seller,
        catalogue: PlanCatalogueStore,
        facts: Facts,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.store = store
        self.database = database
        self.ledgerStore = ledgerStore
        self.credits = credits
        self.organizations = organizations
        self.gateway = gateway
        self.creditPrices = creditPrices
        self.seller = seller
        self.catalogue = catalogue
        self.facts = facts
        self.now = now
        self.logger = logger
    }

    /// A purchase left pending this long is settled by the reconciliation job (a live request
    /// is given the gateway's whole timeout first).
    public static let reconcileAfter: TimeInterval = PurchaseCheck.first

    // MARK: Profile

    /// Whether a principal may buy credits at all: buyers and master users for anyone, and in
    /// individual-credits mode everyone with a wallet for themselves.
    public static func mayBuy(_ principal: Principal) -> Bool {
        principal.can(.purchaseCredits) || principal.can(.manageUserCredits)
            || (principal.organization.creditMode == .individual && principal.staff.wallet != nil)
    }

    /// `GET /v1/billing`. Someone who may only buy into their own wallet sees the prices and
    /// the payment method, not the organisation's billing details.
    public func view(_ principal: Principal) async throws -> BillingView {
        let full = principal.can(.purchaseCredits) || principal.can(.manageSettings)
        guard full || BillingService.mayBuy(principal) else { throw AccessError(.purchaseCredits) }
        let profile = try await store.profile(principal.organizationID)
        let prices = creditPrices
        let country = principal.organization.country
        let pricesView = prices.terms[country].map { terms in
            BillingView.PricesView(
                country: country.rawValue,
                currency: prices.currency,
                unitPrice: Money.format(hundredthsOfCent: terms.unitPriceHundredthsOfCent),
                monthlyFee: terms.monthlyFeeCents > 0
                    ? MoneyView(terms.monthlyFeeCents, currency: prices.currency) : nil,
                tax: terms.tax.map { "\($0.name) \(QuoteView.percent($0.rateBasisPoints))" },
                purchaseMinimum: prices.purchaseMinimum
            )
        }
        return BillingView(
            gateway: gateway.name,
            paymentMethod: profile?.method.map(BillingService.methodView),
            legalName: full ? profile?.legalName : nil,
            taxID: full ? profile?.taxID : nil,
            address: full ? profile?.address : nil,
            email: full ? profile?.billingEmail : nil,
            prices: pricesView
        )
    }

    static func methodView(_ method: PaymentMethodDetails) -> BillingView.MethodView {
        BillingView.MethodView(
            kind: method.kind,
            brand: method.brand,
            last4: method.last4,
            expMonth: method.expMonth,
            expYear: method.expYear,
            description: method.description
        )
    }

    /// `PUT /v1/billing/payment-method`: the gateway tokenises what was given; we keep the token.
    public func setPaymentMethod(_ principal: Principal, _ input: PaymentMethodInputJSON) async throws -> BillingView {
        try principal.require(.purchaseCredits)
        let organization = principal.organization
        var profile = try await profileOrNew(organization.id)
        let customer = PaymentCustomer(
            id: profile.gateway == gateway.name ? profile.customerID : nil,
            name: profile.legalName ?? organization.name,
            email: profile.billingEmail ?? principal.staff.email,
            organizationID: organization.id.rawValue
        )
        let registered: RegisteredPaymentMethod
        do {
            registered = try await gateway.register(try input.method(), for: customer)
        } catch let error as PaymentError {
            throw PurchaseError.paymentMethodRefused(error)
        }
        let method = registered.method
        profile.gateway = gateway.name
        profile.customerID = registered.customerID
        profile.method = method
        profile.updatedAt = now()
        try await store.save(
            profile,
            audit: AuditRecord(
                organization: organization.id,
                actor: principal.actor,
                action: .paymentMethodUpdated,
                message: "Payment method on file set to \(method.brand) ending \(method.last4).",
                subjectType: "organization",
                subjectID: organization.id.rawValue,
                at: profile.updatedAt
            )
        )
        await facts.publish(.paymentMethodChanged(organization))
        return try await view(principal)
    }

    /// The organisation's billing profile, or a new one on this gateway.
    func profileOrNew(_ organization: OrganizationID) async throws -> BillingProfile {
        try await store.profile(organization)
            ?? BillingProfile(organizationID: organization, gateway: gateway.name, updatedAt: now())
    }

    /// `PATCH /v1/billing/details`: legal name, tax id, address and email for invoices.
    public func updateDetails(_ principal: Principal, _ input: BillingDetailsInput) async throws -> BillingView {
        try principal.require(.purchaseCredits)
        let organization = principal.organization
        var profile = try await profileOrNew(organization.id)
        func text(_ value: String?, _ field: String, limit: Int) throws -> String? {
            guard let value else { return nil }
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.unicodeScalars.count <= limit else {
                throw PurchaseError.detailTooLong(field: field, limit: limit)
            }
            return trimmed
        }
        if let name = try text(input.legalName, "legal_name", limit: 200) {
            profile.legalName = name.isEmpty ? nil : name
        }
        if let taxID = try text(input.taxID, "tax_id", limit: 50) { profile.taxID = taxID.isEmpty ? nil : taxID }
        if let address = try text(input.address, "address", limit: 500) {
            profile.address = address.isEmpty ? nil : address
        }
        if let email = try text(input.email, "email", limit: 254) {
            guard email.isEmpty || (email.contains("@") && !email.contains(" ")) else {
                throw PurchaseError.billingEmailInvalid
            }
            profile.billingEmail = email.isEmpty ? nil : email
        }
        profile.updatedAt = now()
        try await store.save(
            profile,
            audit: AuditRecord(
                organization: organization.id,
                actor: principal.actor,
                action: .billingDetailsUpdated,
                message: "Billing details updated.",
                subjectType: "organization",
                subjectID: organization.id.rawValue,
                at: profile.updatedAt
            )
        )
        return try await view(principal)
    }

    // MARK: Purchases

    /// `GET /v1/credits/purchases/quote?credits=N`: what a purchase would cost, tax included.
    public func quote(_ principal: Principal, credits: Int64) throws -> QuoteView {
        guard BillingService.mayBuy(principal) else { throw AccessError(.purchaseCredits) }
        return QuoteView(try price(credits, for: principal.organization))
    }

    /// What `credits` cost the organisation, tax included.
    public func price(_ credits: Int64, for organization: Organization) throws(PurchaseError) -> Quote {
        do {
            return try creditPrices.quote(credits: credits, country: organization.country)
        } catch {
            throw .quote(error)
        }
    }

    /// `POST /v1/credits/purchases`: charges the method on file, then adds purchased (never
    /// expiring) credits to the pool or a wallet and issues the invoice. A repeated key returns
    /// the first purchase; a declined charge adds nothing.
    public func purchase(_ principal: Principal, _ input: PurchaseInput, idempotencyKey: String) async throws
        -> PurchaseView
    {
        let organization = principal.organization
        guard organization.markedSpamAt == nil else { throw PurchaseError.accountClosed }
        let (account, staff) = try await credits.account(input.wallet ?? "pool", principal: principal, field: "wallet")
        // Master users (and buyers) buy system credits and credits for anyone; in individual
        // mode everyone may buy into their own wallet (the Agentbox page).
        if staff?.id != principal.staff.id || account.kind != .wallet || organization.creditMode != .individual {
            try principal.requireAny(.purchaseCredits, .manageUserCredits)
        }
        let (quote, kind, description) = try await priced(input, for: organization)
        let profile = try await store.profile(organization.id)
        guard let method = profile?.method else { throw PurchaseError.paymentMethodRequired(.purchase) }
        let (settled, replayed) = try await buy(
            quote,
            for: organization,
            into: account.id,
            kind: kind,
            actor: principal.actor,
            key: idempotencyKey,
            profile: profile,
            method: method,
            fallbackEmail: principal.staff.email,
            description: description,
            buyer: try buyer(input.billingDetails)
        )
        let wallet = staff?.id ?? "pool"
        switch settled.status {
        case .succeeded: return PurchaseView(settled, wallet: wallet, replayed: replayed)
        case .failed:
            throw PurchaseError.declined(
                code: settled.failureCode ?? "payment_declined",
                reason: settled.failureMessage ?? "no reason given"
            )
        case .pending:
            throw PurchaseError.unconfirmed(purchaseID: settled.id)
        }
    }

    /// A purchase's price: a quantity of credits (at least the minimum) or a credit bucket (a
    /// catalogue plan's monthly credits at its monthly price, the PastorsLine page's "credit
    /// buckets … match the per-month plan amount and price").
    func priced(_ input: PurchaseInput, for organization: Organization) async throws -> (Quote, Purchase.Kind, String?)
    {
        switch (input.credits, input.bucket) {
        case (let credits?, nil):
            return (try price(credits, for: organization), .manual, nil)
        case (nil, let id?):
            guard let plan = try await catalogue.plan(id), plan.active,
                let cents = plan.cents(for: .monthly, in: organization.country)
            else { throw PurchaseError.unknownBucket(id) }
            do {
                let quote = try creditPrices.feeQuote(
                    cents: cents,
                    credits: plan.creditsPerMonth,
                    country: organization.country
                )
                return (quote, .bucket, "\(plan.name) credit bucket: \(plan.creditsPerMonth) SMS credits")
            } catch {
                throw PurchaseError.quote(error)
            }
        default:
            throw PurchaseError.creditsOrBucket
        }
    }

    /// The invoice's buyer when billing details are given with the purchase.
    func buyer(_ input: PurchaseInput.BuyerInput?) throws -> InvoiceParties.Party? {
        guard let input else { return nil }
        func text(_ value: String?, _ field: String, limit: Int) throws -> String? {
            guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            guard value.unicodeScalars.count <= limit else {
                throw PurchaseError.detailTooLong(field: "billing_details.\(field)", limit: limit)
            }
            return value
        }
        let email = try text(input.email, "email", limit: 254)
        if let email, !email.contains("@") { throw PurchaseError.billingEmailInvalid }
        guard let name = try text(input.name, "name", limit: 200) else { return nil }
        return .init(
            name: name,
            address: try text(input.address, "address", limit: 500),
            taxID: try text(input.taxID, "tax_id", limit: 50),
            email: email
        )
    }

    /// Records a purchase under `key` — or finds the one recorded before, refusing a different
    /// request under the same key — and charges it while it is pending. Returns the purchase and
    /// whether it was recorded by an earlier request.
    public func buy(
        _ quote: Quote,
        for organization: Organization,
        into account: AccountID,
        kind: Purchase.Kind,
        actor: Actor,
        key: String,
        profile: BillingProfile?,
        method: PaymentMethodDetails,
        fallbackEmail: String?,
        description: String? = nil,
        period: DateInterval? = nil,
        lotExpiresAt: Date? = nil,
        buyer: InvoiceParties.Party? = nil
    ) async throws -> (purchase: Purchase, replayed: Bool) {
        // Nothing is sold to an account closed as spam, by any path (auto-renew, plans, fees).
        guard try await organizations.organization(organization.id)?.markedSpamAt == nil else {
            throw PurchaseError.accountClosed
        }
        var candidate = Purchase(
            id: Identifier.make("pur_"),
            organizationID: organization.id,
            idempotencyKey: key,
            fingerprint: kind.addsPurchasedCredits && kind != .bucket
                ? "\(quote.credits)|\(account)" : "\(kind.rawValue)|\(quote.totalCents)|\(quote.credits)|\(account)",
            accountID: account,
            kind: kind,
            actor: actor,
            quote: quote,
            methodToken: method.token,
            methodDescription: method.description,
            customerID: profile?.customerID,
            parties: parties(profile, organization: organization, fallbackEmail: fallbackEmail),
            createdAt: now()
        )
        candidate.description = description
        candidate.period = period
        candidate.lotExpiresAt = lotExpiresAt
        if let buyer { candidate.parties.buyer = buyer }
        let stored = try await store.begin(candidate)
        guard stored.fingerprint == candidate.fingerprint else { throw PurchaseError.idempotencyConflict }
        let replayed = stored.id != candidate.id
        guard stored.status == .pending else { return (stored, replayed) }
        guard replayed else { return (try await settle(stored), false) }
        // A repeat of a purchase still pending (its first request may still be waiting for the
        // gateway) never charges in parallel: it looks the charge up when a look-up is due, and
        // otherwise reports the purchase as it stands.
        let due = stored.nextCheckAt.map { $0 <= now() } ?? true
        return (due ? try await resolve(stored) : stored, true)
    }

    /// A purchase into the organisation's pool charged to the payment method on file (auto-renew,
    /// a plan's cycle, a fee), the invoice addressed to the billing email, else `fallbackEmail`,
    /// else the owner's; nil when there is no payment method.
    public func buyOnFile(
        _ quote: Quote,
        for organization: Organization,
        kind: Purchase.Kind,
        actor: Actor,
        key: String,
        fallbackEmail: String? = nil,
        description: String? = nil,
        period: DateInterval? = nil,
        lotExpiresAt: Date? = nil
    ) async throws -> Purchase? {
        let profile = try await store.profile(organization.id)
        guard let method = profile?.method else { return nil }
        let pool = try await credits.pool(of: organization.id)
        let owner = try await organizations.staff(of: organization.id).first { $0.role == .owner }
        return try await buy(
            quote,
            for: organization,
            into: pool.id,
            kind: kind,
            actor: actor,
            key: key,
            profile: profile,
            method: method,
            fallbackEmail: fallbackEmail ?? owner?.email,
            description: description,
            period: period,
            lotExpiresAt: lotExpiresAt
        ).purchase
    }

    /// The seller (configured) and the buyer (billing details, else the organisation's name).
    func parties(_ profile: BillingProfile?, organization: Organization, fallbackEmail: String?) -> InvoiceParties {
        InvoiceParties(
            seller: .init(name: seller.name, address: seller.address, taxID: seller.taxID),
            buyer: .init(
                name: profile?.legalName ?? organization.name,
                address: profile?.address,
                taxID: profile?.taxID,
                email: profile?.billingEmail ?? fallbackEmail
            )
        )
    }

    /// Charges a pending purchase for the first time (the purchase id is the gateway's
    /// idempotency key) and completes or fails it. An unknown outcome, or a bank debit still on
    /// its way, leaves it pending for `resolve` to look up later.
    func settle(_ purchase: Purchase) async throws -> Purchase {
        precondition(purchase.status == .pending, "only pending purchases are charged")
        let request = ChargeRequest(
            amountCents: purchase.quote.totalCents,
            currency: purchase.quote.currency,
            customerID: purchase.customerID,
            paymentMethodToken: purchase.methodToken,
            idempotencyKey: purchase.id,
            description: purchase.subject
        )
        do {
            return try await finish(purchase, try await gateway.charge(request))
        } catch let error as PaymentError {
            return try await refused(purchase, error)
        }
    }

    /// Finds out what became of a pending purchase's charge: by its id or idempotency key at the
    /// gateway; a charge the gateway never received is made now, under the same key. Every
    /// charge that succeeded is credited exactly once (`complete` is idempotent); one that
    /// ended refused fails the purchase. A purchase that reaches a final status here is
    /// announced, so auto-renew reacts to a reconciled decline as it does to a direct one.
    func resolve(_ purchase: Purchase) async throws -> Purchase {
        let resolved: Purchase
        do {
            if let status = try await gateway.lookUp(idempotencyKey: purchase.id, chargeID: purchase.chargeID) {
                resolved = try await finish(purchase, status)
            } else {
                resolved = try await settle(purchase)
            }
        } catch let error as PaymentError {
            resolved = try await refused(purchase, error)
        }
        if resolved.status != .pending { await facts.publish(.purchaseFinished(resolved)) }
        return resolved
    }

    /// A charge that succeeded is credited; one still processing keeps the purchase pending.
    func finish(_ purchase: Purchase, _ status: ChargeStatus) async throws -> Purchase {
        switch status {
        case .succeeded(let charge):
            return try await complete(
                purchase,
                chargeID: charge.id,
                into: try await destinationName(purchase),
                at: now()
            )
        case .processing(let chargeID):
            return try await postpone(purchase, chargeID: chargeID, reason: "the payment is processing")
        }
    }

    /// A final refusal fails the purchase (nothing is credited); an unknown outcome postpones it.
    func refused(_ purchase: Purchase, _ error: PaymentError) async throws -> Purchase {
        guard error.isFinal else { return try await postpone(purchase, chargeID: nil, reason: error.message) }
        let instant = now()
        let total = Money.format(cents: purchase.quote.totalCents, currency: purchase.quote.currency)
        var failed = purchase
        failed.status = .failed
        failed.failureCode = error.code
        failed.failureMessage = error.message
        failed.completedAt = instant
        return try await store.fail(
            purchase.id,
            code: error.code,
            message: error.message,
            at: instant,
            event: try WebhookEvent(
                id: WebhookOutbox.eventID(),
                organization: purchase.organizationID,
                type: .purchaseFailed,
                at: instant,
                data: PurchaseData(failed)
            ),
            audit: AuditRecord(
                organization: purchase.organizationID,
                actor: purchase.actor,
                action: .purchaseFailed,
                message:
                    "Purchase of \(purchase.subject) for \(total) failed: \(error.message) No credits added.",
                subjectType: "purchase",
                subjectID: purchase.id,
                at: instant
            )
        )
    }

    /// Leaves a purchase pending until its next look-up.
    func postpone(_ purchase: Purchase, chargeID: String?, reason: String) async throws -> Purchase {
        let instant = now()
        let next = PurchaseCheck.nextLook(startedAt: purchase.createdAt, at: instant)
        logger.warning(
            "purchase left pending",
            metadata: ["purchase": "\(purchase.id)", "reason": "\(reason)", "next_look": "\(next)"].requestID(
                purchase.requestID ?? RequestID.current?.rawValue
            )
        )
        return try await store.postpone(purchase.id, chargeID: chargeID, until: next)
    }

    /// Credits a charged purchase in one unit of work: the invoice number, the purchased lot
    /// (with the audit entry naming the invoice) and the purchase's new status. Completing one
    /// already completed returns it unchanged.
    func complete(_ purchase: Purchase, chargeID: String, into target: String, at instant: Date) async throws
        -> Purchase
    {
        let total = Money.format(cents: purchase.quote.totalCents, currency: purchase.quote.currency)
        let ledgerStore = ledgerStore
        return try await database.unitOfWork { work in
            guard var locked = try await BillingStore.lock(purchase.id, in: work) else {
                throw StoreError.notFound("purchase")
            }
            guard locked.status == .pending else { return locked }
            locked.invoiceNumber = try await BillingStore.nextInvoiceNumber(in: work)
            let invoice = locked.invoiceLabel ?? ""
            var transfer: TransferID?
            if let deposit = BillingService.deposit(locked, invoice: invoice, total: total, into: target, at: instant) {
                if locked.kind == .plan, let period = locked.period {
                    _ = try await PlanStore.claim(
                        locked.organizationID,
                        period: period,
                        outcome: .granted,
                        at: instant,
                        in: work
                    )
                }
                guard let result = try await ledgerStore.apply([deposit], in: work).first else {
                    throw StoreError.notFound("ledger result")
                }
                transfer = try result.get().transfer
            } else {
                try await AuditStore.insert(
                    [
                        AuditRecord(
                            organization: locked.organizationID,
                            actor: locked.actor,
                            action: .feePaid,
                            message: "Paid \(total) for \(locked.subject) (invoice \(invoice)).",
                            subjectType: "purchase",
                            subjectID: locked.id,
                            at: instant
                        )
                    ],
                    in: work
                )
            }
            try await BillingStore.markSucceeded(
                locked.id,
                chargeID: chargeID,
                transfer: transfer,
                invoiceNumber: locked.invoiceNumber ?? 0,
                at: instant,
                in: work
            )
            locked.transferID = transfer
            locked.status = .succeeded
            locked.chargeID = chargeID
            locked.completedAt = instant
            try await WebhookOutbox.organization(
                locked.organizationID,
                .purchaseSucceeded,
                data: PurchaseData(locked),
                at: instant,
                in: work
            )
            return locked
        }
    }

    /// The ledger deposit a paid purchase makes: purchased credits that never expire, or a
    /// cycle's plan credits expiring at its end; nil for a fee that adds no credits.
    static func deposit(_ purchase: Purchase, invoice: String, total: String, into target: String, at instant: Date)
        -> LedgerRequest?
    {
        let credits = purchase.quote.credits
        guard credits > 0 else { return nil }
        let isPlan = purchase.kind == .plan
        let expiry = purchase.lotExpiresAt.map { " expiring \(ISO8601DateFormatter().string(from: $0))" } ?? ""
        let message: AuditText =
            isPlan
            ? "\(purchase.subject): \(credits) plan credits\(expiry) for \(total) (invoice \(invoice)) into \(target). Balance \(.balanceAfter)."
            : "Purchased \(credits) SMS credits for \(total) (invoice \(invoice)) into \(target). Balance \(.balanceAfter)."
        return LedgerRequest(
            organization: purchase.organizationID,
            idempotencyKey: "purchase:\(purchase.id)",
            operation: .deposit(
                account: purchase.accountID,
                source: isPlan ? .planGrants : .purchases,
                amount: Credits(credits: credits),
                lot: LotID(Identifier.make("lot_")),
                kind: isPlan ? .plan : .purchased,
                expiresAt: isPlan ? purchase.lotExpiresAt : nil
            ),
            at: instant,
            actor: purchase.actor.reference,
            memo: isPlan
                ? "\(purchase.subject): \(credits) plan credits (invoice \(invoice))"
                : "Purchase of \(credits) credits (invoice \(invoice))",
            audit: AuditRecord(
                organization: purchase.organizationID,
                actor: purchase.actor,
                action: isPlan
                    ? .planGranted : purchase.kind == .autoRenew ? .creditsAutoRenewed : .creditsPurchased,
                message: message,
                subjectType: "purchase",
                subjectID: purchase.id,
                at: instant
            )
        )
    }

    /// "the pool" or "Dana Lee's credits".
    func destinationName(_ purchase: Purchase) async throws -> String {
        let staff = try await organizations.staff(of: purchase.organizationID).first { $0.wallet == purchase.accountID }
        return staff.map { "\($0.name)'s credits" } ?? "the pool"
    }

    /// Looks up purchases left pending whose look-up is due (a crash between charge and credit,
    /// a lost answer, a charge still in flight, a bank debit processing); returns how many
    /// reached a final status.
    @discardableResult
    public func reconcile(limit: Int = 100) async throws -> Int {
        var finished = 0
        for purchase in try await store.due(at: now(), limit: limit) {
            let resolved = try await resolve(purchase)
            guard resolved.status != .pending else { continue }
            finished += 1
            logger.info(
                "purchase reconciled",
                metadata: ["purchase": "\(resolved.id)", "status": "\(resolved.status.rawValue)"].requestID(
                    resolved.requestID
                )
            )
        }
        return finished
    }

    /// `GET /v1/credits/purchases`.
    public func purchases(_ principal: Principal, after cursor: RecencyCursor?, limit: Int) async throws
        -> [PurchaseView]
    {
        try principal.requireAny(.purchaseCredits, .viewLogs)
        let purchases = try await store.purchases(
            of: principal.organizationID,
            succeededOnly: false,
            after: cursor,
            limit: limit
        )
        return try await views(purchases, of: principal.organizationID)
    }

    /// One purchase (the portal's confirmation page).
    public func purchase(_ id: String, principal: Principal) async throws -> PurchaseView {
        try principal.requireAny(.purchaseCredits, .viewLogs)
        guard let purchase = try await store.purchase(id, of: principal.organizationID) else {
            throw NotFoundError("Purchase \(id)")
        }
        return try await views([purchase], of: principal.organizationID)[0]
    }

    func views(_ purchases: [Purchase], of organization: OrganizationID) async throws -> [PurchaseView] {
        let staff = try await organizations.staff(of: organization)
        return purchases.map { purchase in
            PurchaseView(purchase, wallet: staff.first { $0.wallet == purchase.accountID }?.id ?? "pool")
        }
    }

    /// `GET /v1/invoices/{id}`: the invoice of a paid purchase.
    public func invoice(_ id: String, principal: Principal) async throws -> InvoiceView {
        try principal.requireAny(.purchaseCredits, .viewLogs)
        guard let purchase = try await store.purchase(id, of: principal.organizationID), purchase.status == .succeeded
        else {
            throw NotFoundError("The invoice")
        }
        return InvoiceView(purchase, wallet: try await destinationName(purchase))
    }
}

/// What `purchase.succeeded` and `purchase.failed` tell.
struct PurchaseData: Encodable {
    var id: String
    var kind: String
    var status: String
    var credits: Int64
    var totalCents: Int64
    var currency: String
    var invoiceNumber: String?
    var failureCode: String?
    var failureMessage: String?

    init(_ purchase: Purchase) {
        id = purchase.id
        kind = purchase.kind.rawValue
        status = purchase.status.rawValue
        credits = purchase.quote.credits
        totalCents = purchase.quote.totalCents
        currency = purchase.quote.currency
        invoiceNumber = purchase.invoiceLabel
        failureCode = purchase.failureCode
        failureMessage = purchase.failureMessage
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, status, credits, currency
        case totalCents = "total_cents"
        case invoiceNumber = "invoice_number"
        case failureCode = "failure_code"
        case failureMessage = "failure_message"
    }
}
