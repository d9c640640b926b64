import CreditsCore
import Foundation
import SQLKit

/// An organisation's auto-renew settings and state.
///
/// "Exactly once per crossing": the setting is *armed* while the balance is at or above the
/// threshold. The first spend that finds the balance below it disarms it and marks a purchase
/// *due* in one conditional UPDATE — concurrent spends race for that row and only one wins. The
/// purchase for crossing N has the idempotency key `auto-renew:N`, so even two servers make
/// one. The setting re-arms only when the balance is back at or above the threshold.
public struct AutoRenewSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, Codable {
        case immediate
        case monthly
    }

    public var organizationID: OrganizationID
    public var enabled: Bool
    public var mode: Mode
    /// Credits bought each time.
    public var credits: Int64
    /// Buy when the pool's available balance falls below this.
    public var threshold: Int64
    public var armed: Bool
    public var due: Bool
    /// Crossings so far; the due purchase belongs to the latest.
    public var crossings: Int64
    /// The auto-renew purchase that was declined and turned auto-renew off.
    public var failedPurchaseID: String?
    /// Monthly mode: the month ("2026-12") whose purchase was made.
    public var purchasedMonth: String?
    /// Monthly mode: the highest multiple of `credits` the primary contact was told about.
    public var notifiedMultiple: Int64 = 0
    public var updatedAt: Date

    public init(
        organizationID: OrganizationID,
        enabled: Bool,
        mode: Mode,
        credits: Int64,
        threshold: Int64,
        armed: Bool,
        due: Bool,
        crossings: Int64,
        failedPurchaseID: String?,
        purchasedMonth: String? = nil,
        notifiedMultiple: Int64 = 0,
        updatedAt: Date
    ) {
        self.organizationID = organizationID
        self.enabled = enabled
        self.mode = mode
        self.credits = credits
        self.threshold = threshold
        self.armed = armed
        self.due = due
        self.crossings = crossings
        self.failedPurchaseID = failedPurchaseID
        self.purchasedMonth = purchasedMonth
        self.notifiedMultiple = notifiedMultiple
        self.updatedAt = updatedAt
    }
}

/// Reads and changes auto-renew state; every change is one conditional statement.
public struct AutoRenewStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    public func settings(_ organization: OrganizationID) async throws -> AutoRenewSettings? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM auto_renew WHERE organization_id = \(bind: organization.rawValue)").first()
                .map(AutoRenewStore.settings)
        }
    }

    /// Saves what the user chose (armed when enabled, nothing due) with its audit entry.
    public func save(
        _ organization: OrganizationID,
        enabled: Bool,
        mode: AutoRenewSettings.Mode,
        credits: Int64,
        threshold: Int64,
        at instant: Date,
        audit: AuditRecord
    ) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO auto_renew (organization_id, enabled, mode, credits, threshold, armed, due, crossings, failed_purchase_id, updated_at)
                VALUES (\(bind: organization.rawValue), \(bind: enabled ? 1 : 0), \(bind: mode.rawValue), \(bind: credits), \(bind: threshold),
                        \(bind: enabled ? 1 : 0), 0, 0, NULL, \(bind: instant.milliseconds))
                ON CONFLICT (organization_id) DO UPDATE SET enabled = excluded.enabled, mode = excluded.mode, credits = excluded.credits,
                    threshold = excluded.threshold,
                    armed = CASE WHEN auto_renew.due = 1 AND excluded.enabled = 1 THEN 0 ELSE excluded.armed END,
                    due = CASE WHEN excluded.enabled = 1 THEN auto_renew.due ELSE 0 END,
                    failed_purchase_id = CASE WHEN excluded.enabled = 1 THEN NULL ELSE auto_renew.failed_purchase_id END,
                    updated_at = excluded.updated_at
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// Disarms and marks a purchase due, if armed; returns the crossing number when this call won.
    public func trip(_ organization: OrganizationID, at instant: Date) async throws -> Int64? {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE auto_renew SET armed = 0, due = 1, crossings = crossings + 1, updated_at = \(bind: instant.milliseconds)
                WHERE organization_id = \(bind: organization.rawValue) AND enabled = 1 AND mode = 'immediate' AND armed = 1
                RETURNING crossings
                """
            ).first().map { try $0.value("crossings", as: Int64.self) }
        }
    }

    /// Re-arms once the balance is back at or above the threshold (nothing due).
    public func rearm(_ organization: OrganizationID, at instant: Date) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE auto_renew SET armed = 1, updated_at = \(bind: instant.milliseconds)
                WHERE organization_id = \(bind: organization.rawValue) AND enabled = 1 AND armed = 0 AND due = 0
                """
            ).run()
        }
    }

    /// Settings with a purchase due.
    public func due(limit: Int) async throws -> [AutoRenewSettings] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM auto_renew WHERE due = 1 LIMIT \(bind: max(1, min(limit, 1000)))").all()
                .map(AutoRenewStore.settings)
        }
    }

    /// The due purchase of `crossing` succeeded.
    public func purchased(_ organization: OrganizationID, crossing: Int64, at instant: Date) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE auto_renew SET due = 0, updated_at = \(bind: instant.milliseconds)
                WHERE organization_id = \(bind: organization.rawValue) AND crossings = \(bind: crossing)
                """
            ).run()
        }
    }

    /// The due purchase was declined: auto-renew turns off, with its audit entry.
    public func disable(
        _ organization: OrganizationID,
        failedPurchase: String,
        at instant: Date,
        audit: AuditRecord,
        event: WebhookEvent? = nil
    ) async throws {
        try await database.transaction { sql in
            let changed = try await sql.raw(
                """
                UPDATE auto_renew SET enabled = 0, armed = 0, due = 0, failed_purchase_id = \(bind: failedPurchase), updated_at = \(bind: instant.milliseconds)
                WHERE organization_id = \(bind: organization.rawValue) AND (enabled = 1 OR due = 1) RETURNING organization_id
                """
            ).all()
            guard !changed.isEmpty else { return }
            try await AuditStore.insert([audit], on: sql)
            try await WebhookStore.emit(event, on: sql)
        }
    }

    /// A retried charge succeeded: auto-renew is on again (armed; the caller re-checks the balance).
    public func reenable(_ organization: OrganizationID, at instant: Date, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            let changed = try await sql.raw(
                """
                UPDATE auto_renew SET enabled = 1, armed = 1, due = 0, failed_purchase_id = NULL, updated_at = \(bind: instant.milliseconds)
                WHERE organization_id = \(bind: organization.rawValue) AND failed_purchase_id IS NOT NULL RETURNING organization_id
                """
            ).all()
            if !changed.isEmpty { try await AuditStore.insert([audit], on: sql) }
        }
    }

    /// Monthly mode: enabled settings whose purchase for `month` has not been made.
    public func monthlyDue(month: String, limit: Int) async throws -> [AutoRenewSettings] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM auto_renew WHERE enabled = 1 AND mode = 'monthly'
                AND (purchased_month IS NULL OR purchased_month <> \(bind: month)) LIMIT \(bind: max(1, min(limit, 1000)))
                """
            ).all().map(AutoRenewStore.settings)
        }
    }

    /// A claim on a month's purchase: the credits an earlier claim of the same month decided (a
    /// run that stopped before finishing), or nil when this claim decides them.
    public struct MonthClaim: Sendable, Equatable {
        public var decidedCredits: Int64?

        public init(decidedCredits: Int64?) { self.decidedCredits = decidedCredits }
    }

    /// Claims the month's purchase until `until` (a lease); nil when it is made already or
    /// another run holds an unexpired claim. A claim of the same month taken over after its lease
    /// keeps the amount decided then, so the retried purchase is the same purchase.
    public func claimMonth(_ organization: OrganizationID, month: String, at instant: Date, until: Date) async throws
        -> MonthClaim?
    {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE auto_renew SET
                    claimed_credits = CASE WHEN claimed_month = \(bind: month) THEN claimed_credits ELSE NULL END,
                    claimed_month = \(bind: month), claim_until = \(bind: until.milliseconds), updated_at = \(bind: instant.milliseconds)
                WHERE organization_id = \(bind: organization.rawValue) AND mode = 'monthly'
                AND (purchased_month IS NULL OR purchased_month <> \(bind: month))
                AND (claimed_month IS NULL OR claimed_month <> \(bind: month) OR claim_until IS NULL OR claim_until <= \(bind: instant.milliseconds))
                RETURNING claimed_credits
                """
            ).first().map {
                MonthClaim(
                    decidedCredits: try $0.decodeNil(column: "claimed_credits")
                        ? nil : try $0.decode(column: "claimed_credits", as: Int64.self)
                )
            }
        }
    }

    /// Records the credits the claimed month's purchase is for (before it is charged).
    public func decideMonth(_ organization: OrganizationID, month: String, credits: Int64) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE auto_renew SET claimed_credits = \(bind: credits)
                WHERE organization_id = \(bind: organization.rawValue) AND claimed_month = \(bind: month) AND claimed_credits IS NULL
                """
            ).run()
        }
    }

    /// Marks the month's purchase made (and starts counting notices afresh).
    public func finishMonth(_ organization: OrganizationID, month: String, at instant: Date) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE auto_renew SET purchased_month = \(bind: month), notified_multiple = 0, claim_until = NULL,
                    updated_at = \(bind: instant.milliseconds)
                WHERE organization_id = \(bind: organization.rawValue) AND claimed_month = \(bind: month)
                """
            ).run()
        }
    }

    /// Monthly mode: records that the primary contact is told about `multiple`, if higher than
    /// what they were told before, together with the mail; true when this call recorded it.
    public func notify(_ organization: OrganizationID, multiple: Int64, mail: Mail) async throws -> Bool {
        try await database.transaction { sql in
            let changed = try await sql.raw(
                """
                UPDATE auto_renew SET notified_multiple = \(bind: multiple)
                WHERE organization_id = \(bind: organization.rawValue) AND mode = 'monthly' AND notified_multiple < \(bind: multiple)
                RETURNING organization_id
                """
            ).all()
            guard !changed.isEmpty else { return false }
            try await MailStore.insert(mail, on: sql)
            return true
        }
    }

    static func settings(_ row: any SQLRow) throws -> AutoRenewSettings {
        AutoRenewSettings(
            organizationID: OrganizationID(try row.value("organization_id")),
            enabled: try row.value("enabled", as: Int.self) == 1,
            mode: AutoRenewSettings.Mode(rawValue: try row.value("mode")) ?? .immediate,
            credits: try row.value("credits"),
            threshold: try row.value("threshold"),
            armed: try row.value("armed", as: Int.self) == 1,
            due: try row.value("due", as: Int.self) == 1,
            crossings: try row.value("crossings"),
            failedPurchaseID: try row.optional("failed_purchase_id"),
            purchasedMonth: try row.optional("purchased_month"),
            notifiedMultiple: try row.value("notified_multiple"),
            updatedAt: Date(milliseconds: try row.value("updated_at"))
        )
    }
}
