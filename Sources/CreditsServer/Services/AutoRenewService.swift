import CreditsCore
import CreditsStore
import Foundation
import Hummingbird

/// `PUT /v1/credits/auto-renew`.
public struct AutoRenewInput: APIInput, Sendable {
    public var enabled: Bool
    /// Credits bought each time (at least the minimum purchase).
    public var credits: Int64?
    /// Buy when the pool's available balance falls below this.
    public var threshold: Int64?
    /// "immediate" (buy when the balance falls below the threshold) or "monthly" (one purchase
    /// on the 1st at 10:00 Central time covering what was used, in multiples of `credits`).
    public var mode: String?

    public static let fields = JSONFields(["enabled", "credits", "threshold", "mode"])
}

/// Auto-renew as the API shows it.
public struct AutoRenewView: Encodable, Sendable {
    public var enabled: Bool
    public var mode: String
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
/// added, made by the maintenance worker; a declined payment turns auto-renew off until the
/// payment method is updated, which retries the charge.
public struct AutoRenewService: Sendable {
    let services: AppServices
    var store: AutoRenewStore { services.autoRenewStore }

    /// The audit entry of a declined auto-renew payment (the seed's words).
    public static let failureSentence = "SMS credit auto-renew failed. Auto-renew disabled; see SETTINGS>SETUP>GENERAL SETTINGS>SMS for more information."

    /// `GET /v1/credits/auto-renew`.
    public func view(_ principal: Principal) async throws -> AutoRenewView {
        guard principal.can(.manageSettings) || principal.can(.purchaseCredits) else { throw APIError.forbidden(.manageSettings) }
        guard let settings = try await store.settings(principal.organizationID) else {
            return AutoRenewView(enabled: false, mode: "immediate", credits: 0, threshold: 0, purchaseDue: false, failedPurchase: nil)
        }
        return AutoRenewService.view(settings)
    }

    static func view(_ settings: AutoRenewSettings) -> AutoRenewView {
        AutoRenewView(enabled: settings.enabled, mode: settings.mode.rawValue, credits: settings.credits, threshold: settings.threshold,
                      purchaseDue: settings.due, failedPurchase: settings.failedPurchaseID)
    }

    /// `PUT /v1/credits/auto-renew` (manage_settings, as the seed says only administrators with
    /// access to settings configure it). Enabling needs a payment method; if the balance is
    /// already below the threshold, the first purchase is made at once.
    public func update(_ principal: Principal, _ input: AutoRenewInput) async throws -> AutoRenewView {
        try principal.require(.manageSettings)
        let organization = principal.organization
        let previous = try await store.settings(organization.id)
        guard let mode = AutoRenewSettings.Mode(rawValue: input.mode ?? previous?.mode.rawValue ?? "immediate") else {
            throw APIError.invalid("mode", "mode is immediate or monthly.")
        }
        guard let credits = input.credits ?? previous?.credits, let threshold = input.threshold ?? previous?.threshold else {
            throw APIError.invalid("credits", "Give credits (bought each time) and threshold (buy when the balance falls below it).")
        }
        _ = try services.billing.price(credits, for: organization)
        guard threshold >= 0, threshold <= 10_000_000 else { throw APIError.invalid("threshold", "threshold must be 0–10,000,000 credits.") }
        if input.enabled, try await services.billingStore.profile(organization.id)?.method == nil {
            throw APIError(.conflict, "payment_method_required", "Add a payment method (PUT /v1/billing/payment-method) before turning on auto-renew.")
        }
        let instant = services.now()
        let sentence = switch (input.enabled, mode) {
        case (false, _): "Auto-renew turned off."
        case (true, .immediate): "Auto-renew on: buy \(credits) SMS credits when the balance falls below \(threshold)."
        case (true, .monthly):
            "Auto-renew on, monthly: on the 1st at 10:00 Central time, buy what was used in multiples of \(credits) SMS credits when the balance is below \(threshold)."
        }
        try await store.save(organization.id, enabled: input.enabled, mode: mode, credits: credits, threshold: threshold, at: instant,
                             audit: AuditRecord(organization: organization.id, actor: principal.actor, action: "credits.auto_renew_updated",
                                                message: sentence, subjectType: "organization", subjectID: organization.id.rawValue, at: instant))
        try await setOverdraftLine(organization.id, monthly: input.enabled && mode == .monthly, credits: credits)
        await check(organization.id)
        return try await view(principal)
    }

    /// How far below zero the pool may go while monthly auto-renew is on, in multiples of its amount.
    public static let monthlyOverdraftMultiples: Int64 = 10

    /// Monthly auto-renew lets sending continue on a bounded overdraft line until the 1st; off,
    /// the line shrinks to what is already used (it cannot be cut below the balance).
    func setOverdraftLine(_ organization: OrganizationID, monthly: Bool, credits: Int64) async throws {
        let pool = try await services.credits.pool(of: organization)
        let used = pool.balance < .zero ? -pool.balance : .zero
        let pendingBelowZero = pool.available < .zero ? -pool.available : .zero
        let line = monthly ? Credits(credits: credits * AutoRenewService.monthlyOverdraftMultiples) : max(used, pendingBelowZero)
        guard line != pool.overdraftLimit else { return }
        try await services.ledgerStore.setOverdraftLimit(max(line, max(used, pendingBelowZero)), for: pool.id, organization: organization)
    }

    /// After the pool's balance moved: trips the setting when it fell below the threshold, or
    /// re-arms it once it is back above. Never fails the caller; problems are logged.
    public func check(_ organization: OrganizationID) async {
        do {
            guard let settings = try await store.settings(organization), settings.enabled else { return }
            let available = try await services.credits.pool(of: organization).available
            let threshold = Credits(credits: settings.threshold)
            if settings.mode == .monthly {
                try await noticeMonthlyMultiple(settings, available: available)
            } else if available < threshold {
                if settings.armed { _ = try await store.trip(organization, at: services.now()) }
            } else if !settings.armed, !settings.due {
                try await store.rearm(organization, at: services.now())
            }
        } catch {
            services.logger.error("auto-renew check failed", metadata: ["organization": "\(organization)", "error": "\(String(reflecting: error))"])
        }
    }

    /// Makes the purchases that are due (the maintenance worker calls this); returns how many
    /// reached a final status.
    @discardableResult
    public func runDue() async throws -> Int {
        var finished = try await runMonthly()
        for settings in try await store.due(limit: 100) {
            guard let organization = try await services.organizations.organization(settings.organizationID) else { continue }
            let outcome = try await buy(settings.credits, for: organization, key: "auto-renew:\(settings.crossings)")
            switch outcome?.status {
            case .succeeded?:
                try await store.purchased(organization.id, crossing: settings.crossings, at: services.now())
                await check(organization.id)
                finished += 1
            case .failed?:
                try await store.disable(organization.id, failedPurchase: outcome?.id ?? "", at: services.now(), audit: failureAudit(organization.id))
                finished += 1
            case nil:
                services.logger.warning("auto-renew due without a payment method", metadata: ["organization": "\(organization.id)"])
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
              let method = try await services.billingStore.profile(organization.id)?.method else { return }
        let credits = try await services.billingStore.purchase(failed, of: organization.id)?.quote.credits ?? settings.credits
        let outcome = try await buy(credits, for: organization, key: "auto-renew-retry:\(failed):\(method.token)")
        guard outcome?.status == .succeeded else { return }
        let instant = services.now()
        try await store.reenable(organization.id, at: instant, audit: AuditRecord(
            organization: organization.id, actor: .system, action: "credits.auto_renew_reenabled",
            message: "Auto-renew re-enabled: the charge with the updated payment method succeeded.", subjectType: "organization",
            subjectID: organization.id.rawValue, at: instant))
        await check(organization.id)
    }

    /// One auto-renew purchase into the pool under `key`; nil when there is no method to charge.
    func buy(_ credits: Int64, for organization: Organization, key: String) async throws -> Purchase? {
        let billing = services.billing
        let profile = try await services.billingStore.profile(organization.id)
        guard let method = profile?.method else { return nil }
        let pool = try await services.credits.pool(of: organization.id)
        let owner = try await services.organizations.staff(of: organization.id).first { $0.role == .owner }
        return try await billing.buy(try billing.price(credits, for: organization), for: organization, into: pool.id, kind: .autoRenew,
                                     actor: .system, key: key, profile: profile, method: method, fallbackEmail: owner?.email).purchase
    }

    func failureAudit(_ organization: OrganizationID) -> AuditRecord {
        AuditRecord(organization: organization, actor: .system, action: "credits.auto_renew_failed", message: AutoRenewService.failureSentence,
                    subjectType: "organization", subjectID: organization.rawValue, at: services.now())
    }

    // MARK: Monthly

    /// The month's purchase instant: the 1st at 10:00 in Chicago (DESIGN §4), and its label.
    static func monthlyPurchase(containing instant: Date) -> (label: String, at: Date)? {
        var calendar = Calendar(identifier: .gregorian)
        guard let chicago = TimeZone(identifier: "America/Chicago") else { return nil }
        calendar.timeZone = chicago
        let parts = calendar.dateComponents([.year, .month], from: instant)
        guard let year = parts.year, let month = parts.month,
              let at = calendar.date(from: DateComponents(year: year, month: month, day: 1, hour: 10)) else { return nil }
        return ("\(year)-\(month < 10 ? "0" : "")\(month)", at)
    }

    /// Credits the month's purchase buys: what restores the balance above the threshold, in
    /// whole multiples of the amount (none when the balance is not below it).
    static func monthlyCredits(available: Credits, threshold: Int64, amount: Int64) -> Int64 {
        let deficit = Credits(credits: threshold) - available
        guard deficit.isPositive else { return 0 }
        let perMultiple = Credits(credits: amount).milli
        return (deficit.milli / perMultiple + 1) * amount
    }

    /// Makes each organisation's monthly purchase once the 1st at 10:00 Central has come.
    func runMonthly() async throws -> Int {
        let now = services.now()
        guard let (label, at) = AutoRenewService.monthlyPurchase(containing: now), now >= at else { return 0 }
        var finished = 0
        for settings in try await store.monthlyDue(month: label, limit: 100) {
            guard let organization = try await services.organizations.organization(settings.organizationID),
                  try await store.claimMonth(organization.id, month: label, at: now) else { continue }
            let available = try await services.credits.pool(of: organization.id).available
            let credits = AutoRenewService.monthlyCredits(available: available, threshold: settings.threshold, amount: settings.credits)
            guard credits > 0 else { continue }
            let outcome = try await buy(credits, for: organization, key: "auto-renew-monthly:\(label)")
            if let outcome, outcome.status == .failed {
                try await store.disable(organization.id, failedPurchase: outcome.id, at: now, audit: failureAudit(organization.id))
            }
            finished += 1
        }
        return finished
    }

    /// Tells the primary contact each time this month's usage reaches another multiple of the
    /// amount ("200 credits will be purchased", then 400, …), once per multiple.
    func noticeMonthlyMultiple(_ settings: AutoRenewSettings, available: Credits) async throws {
        let credits = AutoRenewService.monthlyCredits(available: available, threshold: settings.threshold, amount: settings.credits)
        let multiple = credits / settings.credits
        guard multiple > settings.notifiedMultiple,
              let owner = try await services.organizations.staff(of: settings.organizationID).first(where: { $0.role == .owner }) else { return }
        let now = services.now()
        let next = AutoRenewService.monthlyPurchase(containing: now).flatMap { current in
            now < current.at ? current.at : Calendar(identifier: .gregorian).date(byAdding: .month, value: 1, to: current.at)
        }
        let when = next.map { date -> String in
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "America/Chicago")
            formatter.dateFormat = "d MMMM yyyy 'at' h:mm a zzz"
            return formatter.string(from: date)
        } ?? "the 1st of the month"
        let mail = Mail(id: Identifier.make("mail_"), organizationID: settings.organizationID, kind: "auto_renew_notice", to: owner.email,
                        subject: "Auto-renew will purchase \(credits) SMS credits",
                        body: """
                            Hello \(owner.name),

                            SMS credits used this month mean auto-renew will purchase \(credits) SMS credits on \(when), \
                            in multiples of \(settings.credits). Sending continues until then. The pool's available balance is \(available) credits.
                            """,
                        status: services.configuration.mail.initialStatus, createdAt: now)
        _ = try await store.notify(settings.organizationID, multiple: multiple, mail: mail)
    }
}
