import CreditsCore
import CreditsStore
import Foundation
import Logging

/// `PUT /v1/credits/auto-renew`.
public struct AutoRenewInput: APIInput, Sendable {
    public var enabled: Bool
    /// Credits bought each time (at least the minimum purchase).
    public var credits: Int64?
    /// Buy when the pool's available balance falls below this.
    public var threshold: Int64?
    /// Immediate (buy when the balance falls below the threshold) or monthly (one purchase on
    /// the 1st at 10:00 Central time covering what was used, in multiples of `credits`).
    public var mode: AutoRenewSettings.Mode?

    enum CodingKeys: String, CodingKey { case enabled, credits, threshold, mode }

    public static let fields = JSONFields(["enabled", "credits", "threshold", "mode"])

    public init(enabled: Bool, credits: Int64? = nil, threshold: Int64? = nil, mode: AutoRenewSettings.Mode? = nil) {
        self.enabled = enabled
        self.credits = credits
        self.threshold = threshold
        self.mode = mode
    }

    /// Reads the mode by name, refusing one that is neither immediate nor monthly in its own words.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try container.decode(Bool.self, forKey: .enabled)
        credits = try container.decodeIfPresent(Int64.self, forKey: .credits)
        threshold = try container.decodeIfPresent(Int64.self, forKey: .threshold)
        guard let name = try container.decodeIfPresent(String.self, forKey: .mode) else { return }
        guard let mode = AutoRenewSettings.Mode(rawValue: name) else { throw AutoRenewError.unknownMode }
        self.mode = mode
    }
}

/// Auto-renew as the API shows it.
public struct AutoRenewView: Encodable, Sendable {
    public var enabled: Bool
    public var mode: AutoRenewSettings.Mode
    public var credits: Int64
    public var threshold: Int64
    /// True while a purchase for the latest crossing is being made.
    public var purchaseDue: Bool
    /// The declined auto-renew purchase that turned it off, if any.
    public var failedPurchase: String?

    enum CodingKeys: String, CodingKey {
        case enabled, mode, credits, threshold
        case purchaseDue = "purchase_due"
        case failedPurchase = "failed_purchase"
    }
}

/// Immediate auto-renew: one purchase per threshold crossing, paid before the credits are
/// added, made by a background job; a declined payment turns auto-renew off until the payment
/// method is updated, which retries the charge. Monthly auto-renew: one purchase on the 1st.
/// It acts on facts: a pool's balance changed, a payment method was put on file.
public struct AutoRenewService: Sendable {
    let store: AutoRenewStore
    let billingStore: BillingStore
    let billing: BillingService
    let credits: CreditService
    let ledgerStore: SQLLedgerStore
    let organizations: OrganizationStore
    /// The status new mail starts in.
    let newMailStatus: MailStatus
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        store: AutoRenewStore,
        billingStore: BillingStore,
        billing: BillingService,
        credits: CreditService,
        ledgerStore: SQLLedgerStore,
        organizations: OrganizationStore,
        newMailStatus: MailStatus,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.store = store
        self.billingStore = billingStore
        self.billing = billing
        self.credits = credits
        self.ledgerStore = ledgerStore
        self.organizations = organizations
        self.newMailStatus = newMailStatus
        self.now = now
        self.logger = logger
    }

    /// Reacts to facts: a pool's balance moved (trip or re-arm), a payment method was put on
    /// file (retry a declined charge).
    public func handle(_ fact: Fact) async {
        switch fact {
        case .balanceChanged(let change):
            if change.isPool { await check(change.organization) }
        case .paymentMethodChanged(let organization):
            do {
                try await retryAfterPaymentMethodUpdate(organization)
            } catch {
                logger.error(
                    "auto-renew retry failed",
                    metadata: ["organization": "\(organization.id)", "error": "\(String(reflecting: error))"]
                )
            }
        case .purchaseFinished(let purchase):
            do {
                try await reconciled(purchase)
            } catch {
                logger.error(
                    "auto-renew reaction to a reconciled purchase failed",
                    metadata: ["purchase": "\(purchase.id)", "error": "\(String(reflecting: error))"]
                )
            }
        }
    }

    /// An auto-renew purchase whose outcome was found later: a decline disables auto-renew and
    /// shows the banner, exactly as a direct decline does; a retried charge that went through
    /// turns auto-renew back on.
    func reconciled(_ purchase: Purchase) async throws {
        guard purchase.kind == .autoRenew else { return }
        switch purchase.status {
        case .failed:
            try await store.disable(
                purchase.organizationID,
                failedPurchase: purchase.id,
                at: now(),
                audit: failureAudit(purchase.organizationID),
                event: try failureEvent(purchase.organizationID, purchase: purchase.id, at: now())
            )
        case .succeeded where purchase.idempotencyKey.hasPrefix(AutoRenewService.retryKeyPrefix):
            try await reenable(purchase.organizationID)
        case .succeeded, .pending:
            break
        }
    }

    /// `auto_renew.failed`: the declined purchase and that auto-renew is now off.
    func failureEvent(_ organization: OrganizationID, purchase: String, at instant: Date) throws -> WebhookEvent {
        try WebhookEvent(
            id: WebhookOutbox.eventID(),
            organization: organization,
            type: .autoRenewFailed,
            at: instant,
            data: AutoRenewFailedData(purchaseID: purchase, message: AutoRenewService.failureSentence)
        )
    }

    /// The audit entry of a declined auto-renew payment (the seed's words).
    public static let failureSentence =
        "SMS credit auto-renew failed. Auto-renew disabled; see SETTINGS>SETUP>GENERAL SETTINGS>SMS for more information."

    /// `GET /v1/credits/auto-renew`.
    public func view(_ principal: Principal) async throws -> AutoRenewView {
        try principal.requireAny(.manageSettings, .purchaseCredits)
        guard let settings = try await store.settings(principal.organizationID) else {
            return AutoRenewView(
                enabled: false,
                mode: .immediate,
                credits: 0,
                threshold: 0,
                purchaseDue: false,
                failedPurchase: nil
            )
        }
        return AutoRenewService.view(settings)
    }

    static func view(_ settings: AutoRenewSettings) -> AutoRenewView {
        AutoRenewView(
            enabled: settings.enabled,
            mode: settings.mode,
            credits: settings.credits,
            threshold: settings.threshold,
            purchaseDue: settings.due,
            failedPurchase: settings.failedPurchaseID
        )
    }

    /// `PUT /v1/credits/auto-renew` (manage_settings, as the seed says only administrators with
    /// access to settings configure it). Enabling needs a payment method; if the balance is
    /// already below the threshold, the first purchase is made at once.
    public func update(_ principal: Principal, _ input: AutoRenewInput) async throws -> AutoRenewView {
        try principal.require(.manageSettings)
        let organization = principal.organization
        let previous = try await store.settings(organization.id)
        let mode = input.mode ?? previous?.mode ?? .immediate
        guard let credits = input.credits ?? previous?.credits, let threshold = input.threshold ?? previous?.threshold
        else {
            throw AutoRenewError.amountsRequired
        }
        _ = try billing.price(credits, for: organization)
        guard threshold >= 0, threshold <= 10_000_000 else { throw AutoRenewError.thresholdOutOfRange }
        if input.enabled, try await billingStore.profile(organization.id)?.method == nil {
            throw PurchaseError.paymentMethodRequired(.autoRenew)
        }
        let instant = now()
        let sentence: AuditText =
            switch (input.enabled, mode) {
            case (false, _): "Auto-renew turned off."
            case (true, .immediate):
                "Auto-renew on: buy \(credits) SMS credits when the balance falls below \(threshold)."
            case (true, .monthly):
                "Auto-renew on, monthly: on the 1st at 10:00 Central time, buy what was used in multiples of \(credits) SMS credits when the balance is below \(threshold)."
            }
        try await store.save(
            organization.id,
            enabled: input.enabled,
            mode: mode,
            credits: credits,
            threshold: threshold,
            at: instant,
            audit: AuditRecord(
                organization: organization.id,
                actor: principal.actor,
                action: .autoRenewUpdated,
                message: sentence,
                subjectType: "organization",
                subjectID: organization.id.rawValue,
                at: instant
            )
        )
        try await setOverdraftLine(organization.id, monthly: input.enabled && mode == .monthly, credits: credits)
        await check(organization.id)
        return try await view(principal)
    }

    /// How far below zero the pool may go while monthly auto-renew is on, in multiples of its amount.
    public static let monthlyOverdraftMultiples: Int64 = 10

    /// Monthly auto-renew lets sending continue on a bounded overdraft line until the 1st; off,
    /// the line shrinks to what is already used (it cannot be cut below the balance).
    func setOverdraftLine(_ organization: OrganizationID, monthly: Bool, credits amount: Int64) async throws {
        let pool = try await credits.pool(of: organization)
        let used = pool.balance < .zero ? -pool.balance : .zero
        let pendingBelowZero = pool.available < .zero ? -pool.available : .zero
        let line =
            monthly
            ? Credits(credits: amount * AutoRenewService.monthlyOverdraftMultiples) : max(used, pendingBelowZero)
        guard line != pool.overdraftLimit else { return }
        try await ledgerStore.setOverdraftLimit(
            max(line, max(used, pendingBelowZero)),
            for: pool.id,
            organization: organization
        )
    }

    /// After the pool's balance moved: trips the setting when it fell below the threshold, or
    /// re-arms it once it is back above. Never fails the caller; problems are logged.
    public func check(_ organization: OrganizationID) async {
        do {
            guard let settings = try await store.settings(organization), settings.enabled else { return }
            let available = try await credits.pool(of: organization).available
            let threshold = Credits(credits: settings.threshold)
            if settings.mode == .monthly {
                try await noticeMonthlyMultiple(settings, available: available)
            } else if available < threshold {
                if settings.armed { _ = try await store.trip(organization, at: now()) }
            } else if !settings.armed, !settings.due {
                try await store.rearm(organization, at: now())
            }
        } catch {
            logger.error(
                "auto-renew check failed",
                metadata: ["organization": "\(organization)", "error": "\(String(reflecting: error))"]
            )
        }
    }

    /// Makes every purchase that is due, immediate and monthly; returns how many reached a final status.
    @discardableResult
    public func runDue() async throws -> Int {
        try await runMonthly() + runImmediate()
    }

    /// Makes up to `limit` immediate purchases that are due (a background job); returns how many
    /// reached a final status.
    @discardableResult
    public func runImmediate(limit: Int = 100) async throws -> Int {
        var finished = 0
        for settings in try await store.due(limit: limit) {
            guard let organization = try await organizations.organization(settings.organizationID) else { continue }
            let outcome = try await buy(settings.credits, for: organization, key: "auto-renew:\(settings.crossings)")
            switch outcome?.status {
            case .succeeded?:
                try await store.purchased(organization.id, crossing: settings.crossings, at: now())
                await check(organization.id)
                finished += 1
            case .failed?:
                try await store.disable(
                    organization.id,
                    failedPurchase: outcome?.id ?? "",
                    at: now(),
                    audit: failureAudit(organization.id),
                    event: try failureEvent(organization.id, purchase: outcome?.id ?? "", at: now())
                )
                finished += 1
            case nil:
                logger.warning(
                    "auto-renew due without a payment method",
                    metadata: ["organization": "\(organization.id)"]
                )
            case .pending?:
                break
            }
        }
        return finished
    }

    /// Retries a declined auto-renew with the payment method just put on file; on success
    /// auto-renew is on again.
    func retryAfterPaymentMethodUpdate(_ organization: Organization) async throws {
        guard let settings = try await store.settings(organization.id), let failed = settings.failedPurchaseID,
            let method = try await billingStore.profile(organization.id)?.method
        else { return }
        let credits = try await billingStore.purchase(failed, of: organization.id)?.quote.credits ?? settings.credits
        let outcome = try await buy(
            credits,
            for: organization,
            key: "\(AutoRenewService.retryKeyPrefix)\(failed):\(method.token)"
        )
        guard outcome?.status == .succeeded else { return }
        try await reenable(organization.id)
    }

    /// The key prefix of a declined auto-renew charge retried with a new payment method.
    static let retryKeyPrefix = "auto-renew-retry:"

    /// Auto-renew is on again after a retried charge went through.
    func reenable(_ organization: OrganizationID) async throws {
        let instant = now()
        try await store.reenable(
            organization,
            at: instant,
            audit: AuditRecord(
                organization: organization,
                actor: .system,
                action: .autoRenewReenabled,
                message: "Auto-renew re-enabled: the charge with the updated payment method succeeded.",
                subjectType: "organization",
                subjectID: organization.rawValue,
                at: instant
            )
        )
        await check(organization)
    }

    /// One auto-renew purchase into the pool under `key`; nil when there is no method to charge.
    func buy(_ amount: Int64, for organization: Organization, key: String) async throws -> Purchase? {
        try await billing.buyOnFile(
            try billing.price(amount, for: organization),
            for: organization,
            kind: .autoRenew,
            actor: .system,
            key: key
        )
    }

    func failureAudit(_ organization: OrganizationID) -> AuditRecord {
        AuditRecord(
            organization: organization,
            actor: .system,
            action: .autoRenewFailed,
            message: AuditText(AutoRenewService.failureSentence),
            subjectType: "organization",
            subjectID: organization.rawValue,
            at: now()
        )
    }

    // MARK: Monthly

    /// How long a run holds a month's claim; a run that stops before finishing is taken over
    /// after this.
    static let monthlyClaimLease: TimeInterval = 600

    /// Makes each organisation's monthly purchase once the 1st at 10:00 Central has come (a
    /// background job; at most `limit` a pass); returns how many it made. The month is claimed
    /// for a while, its amount decided and kept, the purchase made under the month's key, and
    /// only then the month marked made: a stop anywhere in between is taken over after the
    /// lease and buys the same purchase (the key and amount make a repeat find the first one),
    /// never a second one and never none.
    @discardableResult
    public func runMonthly(limit: Int = 100) async throws -> Int {
        let now = now()
        guard let (label, at) = MonthlyRenewal.purchase(containing: now), now >= at else { return 0 }
        var finished = 0
        for settings in try await store.monthlyDue(month: label, limit: limit) {
            guard let organization = try await organizations.organization(settings.organizationID),
                let claim = try await store.claimMonth(
                    organization.id,
                    month: label,
                    at: now,
                    until: now.addingTimeInterval(AutoRenewService.monthlyClaimLease)
                )
            else { continue }
            let credits: Int64
            if let decided = claim.decidedCredits {
                credits = decided
            } else {
                let available = try await self.credits.pool(of: organization.id).available
                credits = MonthlyRenewal.credits(
                    available: available,
                    threshold: settings.threshold,
                    amount: settings.credits
                )
                try await store.decideMonth(organization.id, month: label, credits: credits)
            }
            if credits > 0,
                let outcome = try await buy(credits, for: organization, key: "auto-renew-monthly:\(label)"),
                outcome.status == .failed
            {
                try await store.disable(
                    organization.id,
                    failedPurchase: outcome.id,
                    at: now,
                    audit: failureAudit(organization.id),
                    event: try failureEvent(organization.id, purchase: outcome.id, at: now)
                )
            }
            try await store.finishMonth(organization.id, month: label, at: now)
            if credits > 0 { finished += 1 }
        }
        return finished
    }

    /// Tells the primary contact each time this month's usage reaches another multiple of the
    /// amount ("200 credits will be purchased", then 400, …), once per multiple.
    func noticeMonthlyMultiple(_ settings: AutoRenewSettings, available: Credits) async throws {
        let credits = MonthlyRenewal.credits(
            available: available,
            threshold: settings.threshold,
            amount: settings.credits
        )
        let multiple = credits / settings.credits
        guard multiple > settings.notifiedMultiple,
            let owner = try await organizations.staff(of: settings.organizationID).first(where: { $0.role == .owner })
        else { return }
        let now = now()
        let when =
            MonthlyRenewal.nextPurchase(after: now).map { date -> String in
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.timeZone = TimeZone(identifier: "America/Chicago")
                formatter.dateFormat = "d MMMM yyyy 'at' h:mm a zzz"
                return formatter.string(from: date)
            } ?? "the 1st of the month"
        let mail = Mail(
            id: Identifier.make("mail_"),
            organizationID: settings.organizationID,
            kind: .autoRenewNotice,
            to: owner.email,
            subject: "Auto-renew will purchase \(credits) SMS credits",
            body: """
                Hello \(owner.name),

                SMS credits used this month mean auto-renew will purchase \(credits) SMS credits on \(when), \
                in multiples of \(settings.credits). Sending continues until then. The pool's available balance is \(available) credits.
                """,
            status: newMailStatus,
            createdAt: now
        )
        _ = try await store.notify(settings.organizationID, multiple: multiple, mail: mail)
    }
}

/// What `auto_renew.failed` tells.
struct AutoRenewFailedData: Encodable {
    var purchaseID: String
    var message: String
    var enabled = false

    enum CodingKeys: String, CodingKey {
        case message, enabled
        case purchaseID = "purchase_id"
    }
}
