import CreditsCore
import CreditsStore
import Foundation

/// `PUT /v1/billing/short-code`.
public struct ShortCodeInput: APIInput, Sendable {
    public var keyword: String
    public static let fields = JSONFields(["keyword"])
}

/// The shared short code add-on as an organisation sees it.
public struct ShortCodeView: Encodable, Sendable {
    /// The operator's shared short code (nil: this server offers none).
    public var shortCode: String?
    /// Whether the organisation's country is offered it.
    public var offered: Bool
    /// Its monthly price in the organisation's country.
    public var monthly: MoneyView?
    public var keyword: String?
    /// none, active, or ending (stopped: works until `endsAt`).
    public var status: String
    public var endsAt: Date?
    /// What people text to join ("Text BRIGHTSTARS to 55222").
    public var howToJoin: String?

    enum CodingKeys: String, CodingKey {
        case offered, monthly, keyword, status
        case shortCode = "short_code"
        case endsAt = "ends_at"
        case howToJoin = "how_to_join"
    }
}

/// Why the shared short code add-on was refused.
public enum ShortCodeError: DomainError, Equatable {
    /// This server has no shared short code, or not for the organisation's country.
    case notOffered
    /// Not 3–20 letters and digits.
    case keywordInvalid
    /// A word the short code answers itself.
    case keywordReserved(String)
    /// Another organisation holds it.
    case keywordTaken(String)
    /// There is no keyword to stop.
    case noKeyword

    public var kind: RefusalKind {
        switch self {
        case .keywordInvalid, .keywordReserved: .invalid
        case .notOffered, .keywordTaken, .noKeyword: .conflict
        }
    }

    public var code: String {
        switch self {
        case .notOffered: "short_code_not_offered"
        case .keywordInvalid: "field_invalid"
        case .keywordReserved: "keyword_reserved"
        case .keywordTaken: "keyword_taken"
        case .noKeyword: "no_short_code"
        }
    }

    public var message: String {
        switch self {
        case .notOffered: "This server offers no shared short code in your country."
        case .keywordInvalid: "A keyword is 3 to 20 letters and digits, such as BRIGHTSTARS."
        case .keywordReserved(let word): "\(word) is a word every short code answers itself; choose another keyword."
        case .keywordTaken(let word): "\(word) is taken on the shared short code; choose another keyword."
        case .noKeyword: "You have no keyword on the shared short code."
        }
    }

    public var field: String? {
        switch self {
        case .keywordInvalid, .keywordReserved, .keywordTaken: "keyword"
        case .notOffered, .noKeyword: nil
        }
    }
}

/// The shared short code add-on (PastorsLine: "$5/month"): an organisation rents a keyword on the
/// operator's short code, paid each credit month through the subscription machinery (a purchase
/// of kind `short_code` with its invoice). People who text the keyword to the short code reach
/// the organisation (alone, it asks to join its texts). Stopping keeps it until the end of the
/// month paid for; a monthly fee that cannot be charged stops it at once, audited.
public struct ShortCodeService: Sendable {
    let store: ShortCodeStore
    let subscriptions: SubscriptionService
    let billingStore: BillingStore
    let organizations: OrganizationStore
    let database: any Database
    let shortCode: String?
    let monthlyCents: [Country: Int64]
    let now: @Sendable () -> Date

    public init(
        store: ShortCodeStore,
        subscriptions: SubscriptionService,
        billingStore: BillingStore,
        organizations: OrganizationStore,
        database: any Database,
        shortCode: String?,
        monthlyCents: [Country: Int64],
        now: @escaping @Sendable () -> Date
    ) {
        self.store = store
        self.subscriptions = subscriptions
        self.billingStore = billingStore
        self.organizations = organizations
        self.database = database
        self.shortCode = shortCode
        self.monthlyCents = monthlyCents
        self.now = now
    }

    /// The monthly price for an organisation, when the add-on is offered to it.
    func price(_ organization: Organization) -> Int64? {
        guard shortCode != nil, let cents = monthlyCents[organization.country], cents > 0 else { return nil }
        return cents
    }

    /// `GET /v1/billing/short-code`.
    public func view(_ principal: Principal) async throws -> ShortCodeView {
        let organization = principal.organization
        let record = try await store.keyword(of: organization.id)
        let running = record.map { ($0.endsAt ?? .distantFuture) > now() } ?? false
        let cents = price(organization)
        return ShortCodeView(
            shortCode: shortCode,
            offered: cents != nil,
            monthly: cents.map { MoneyView($0, currency: "USD") },
            keyword: running ? record?.keyword : nil,
            status: !running ? "none" : (record?.endsAt == nil ? "active" : "ending"),
            endsAt: running ? record?.endsAt : nil,
            howToJoin: running
                ? record.flatMap { keyword in shortCode.map { "Text \(keyword.keyword) to \($0)" } } : nil
        )
    }

    /// `PUT /v1/billing/short-code`: takes a keyword, charging this month's fee unless it was
    /// paid already (a keyword changed or started again within a paid month costs nothing more).
    public func start(_ principal: Principal, _ input: ShortCodeInput) async throws -> ShortCodeView {
        try principal.require(.purchaseCredits)
        let organization = principal.organization
        guard organization.markedSpamAt == nil else { throw SubscriptionError.markedSpam }
        guard let cents = price(organization) else { throw ShortCodeError.notOffered }
        let keyword: String
        switch ShortCodeKeyword.normalize(input.keyword) {
        case .success(let value): keyword = value
        case .failure(.shape): throw ShortCodeError.keywordInvalid
        case .failure(.reserved(let word)): throw ShortCodeError.keywordReserved(word)
        }
        let month = CreditMonth.containing(now(), day: organization.allotmentDay, timeZone: organization.zone)
        let before = try await store.keyword(of: organization.id)
        let claimed = try await store.claim(
            keyword,
            for: organization.id,
            at: now(),
            audit: principal.organizationAudit(
                .shortCodeStarted,
                "Keyword \(keyword) on the shared short code \(shortCode ?? "") started: people who text it there reach \(organization.name).",
                at: now()
            )
        )
        guard claimed else { throw ShortCodeError.keywordTaken(keyword) }
        if try await billingStore.latest(.shortCode, of: organization.id, periodStart: month.start)?.status
            == .succeeded
        {
            return try await view(principal)
        }
        let purchase: Purchase
        do {
            purchase = try await chargeMonth(
                cents,
                keyword: keyword,
                month: month,
                organization: organization,
                actor: principal.actor,
                email: principal.staff.email
            )
        } catch {
            try await undo(before, organization: organization.id)
            throw error
        }
        guard purchase.status != .failed else {
            try await undo(before, organization: organization.id)
            throw PurchaseError.declined(
                code: purchase.failureCode ?? "payment_declined",
                reason: purchase.failureMessage ?? "no reason given"
            )
        }
        try await markPaid(organization.id, month: month, at: now())
        return try await view(principal)
    }

    /// Records the month's fee as handled, so the monthly job does not charge it again.
    func markPaid(_ organization: OrganizationID, month: DateInterval, at instant: Date) async throws {
        try await database.unitOfWork { work in
            _ = try await OrganizationStore.claimMonthlyRun(
                organization,
                kind: "short_code",
                period: month.start,
                at: instant,
                in: work
            )
        }
    }

    /// A credit month of a keyword, through the subscription machinery's purchase path. The key
    /// names the month, the keyword and the card on file: a declined fee is charged again once
    /// the card changes, and only then.
    func chargeMonth(
        _ cents: Int64,
        keyword: String,
        month: DateInterval,
        organization: Organization,
        actor: Actor,
        email: String?
    ) async throws -> Purchase {
        let card = try await billingStore.profile(organization.id)?.method?.token ?? "none"
        return try await subscriptions.charge(
            .shortCode,
            cents: cents,
            credits: 0,
            description: "Shared short code keyword \(keyword): \(SubscriptionService.span(month, organization.zone))",
            period: month,
            lotExpiresAt: nil,
            organization: organization,
            actor: actor,
            key: "short-code:\(month.start.milliseconds):\(keyword):\(card)",
            email: email
        )
    }

    /// Puts back the keyword held before a start whose fee was not paid.
    func undo(_ before: ShortCodeKeywordRecord?, organization: OrganizationID) async throws {
        try await store.release(organization)
        guard let before else { return }
        _ = try await store.claim(
            before.keyword,
            for: organization,
            at: before.createdAt,
            audit: AuditRecord(
                organization: organization,
                actor: .system,
                action: .shortCodeStarted,
                message: "Keyword \(before.keyword) kept: the new keyword's fee was not paid.",
                at: now()
            )
        )
        if let endsAt = before.endsAt {
            try await store.stop(
                organization,
                endsAt: endsAt,
                audit: AuditRecord(
                    organization: organization,
                    actor: .system,
                    action: .shortCodeStopped,
                    message: "Keyword \(before.keyword) still stops at the end of the month paid for.",
                    at: now()
                )
            )
        }
    }

    /// `DELETE /v1/billing/short-code`: the keyword works until the end of the month paid for.
    public func stop(_ principal: Principal) async throws -> ShortCodeView {
        try principal.require(.purchaseCredits)
        let organization = principal.organization
        guard let record = try await store.keyword(of: organization.id), record.endsAt == nil else {
            throw ShortCodeError.noKeyword
        }
        let month = CreditMonth.containing(now(), day: organization.allotmentDay, timeZone: organization.zone)
        try await store.stop(
            organization.id,
            endsAt: month.end,
            audit: principal.organizationAudit(
                .shortCodeStopped,
                "Keyword \(record.keyword) on the shared short code stopped: it works until \(SubscriptionService.day(month.end, organization.zone)) and is not charged again.",
                at: now()
            )
        )
        return try await view(principal)
    }

    /// Charges each running keyword's month once (a background job); a fee that cannot be
    /// charged stops the keyword at once, audited; stopped keywords are forgotten once ended.
    @discardableResult
    public func runFees(limit: Int = 100) async throws -> Int {
        var charged = 0
        let instant = now()
        for record in try await store.all() where charged < limit {
            if let endsAt = record.endsAt {
                if endsAt <= instant { try await store.release(record.organizationID) }
                continue
            }
            guard let organization = try await organizations.organization(record.organizationID) else { continue }
            let month = CreditMonth.containing(instant, day: organization.allotmentDay, timeZone: organization.zone)
            guard try await !organizations.monthlyRunDone(organization.id, kind: "short_code", period: month.start)
            else { continue }
            charged += 1
            let purchase: Purchase?
            if let cents = price(organization), organization.markedSpamAt == nil {
                purchase = try? await chargeMonth(
                    cents,
                    keyword: record.keyword,
                    month: month,
                    organization: organization,
                    actor: .system,
                    email: nil
                )
            } else {
                purchase = nil
            }
            if purchase == nil || purchase?.status == .failed {
                try await store.stop(
                    organization.id,
                    endsAt: instant,
                    audit: AuditRecord(
                        organization: organization.id,
                        actor: .system,
                        action: .shortCodeFailed,
                        message:
                            "Keyword \(record.keyword) on the shared short code stopped: its monthly fee could not be charged (\(purchase?.failureMessage ?? "there is no payment method on file")). Take it again under Plan once the payment method is updated.",
                        at: instant
                    )
                )
            }
            try await markPaid(organization.id, month: month, at: instant)
        }
        return charged
    }
}
