import CreditsCore
import Foundation
import SQLKit

/// A subscription that grants plan credits each month or year.
public struct Plan: Sendable, Equatable {

    /// A subscription's standing.
    public enum Status: String, Sendable, Codable {
        /// Renewing each cycle.
        case active
        /// The last renewal was declined: no plan credits until a charge succeeds (retried when
        /// the payment method changes).
        case pastDue = "past_due"
        /// Ended (by the customer at a cycle end, or by the operator).
        case cancelled
    }

    public var organizationID: OrganizationID
    public var name: String
    public var credits: Int64
    public var cycle: BillingCycle
    /// Plan credits granted while on never expire ("rollover protection").
    public var rolloverProtection: Bool
    /// Cycles are counted from here (granted from the first cycle that contains it).
    public var startsAt: Date
    public var active: Bool
    public var updatedAt: Date
    /// The catalogue plan subscribed to; nil for a plan the operator set by hand (no fee).
    public var catalogueID: String?
    public var status: Status = .active
    /// A downgrade or cycle change waiting for the cycle end.
    public var nextCatalogueID: String?
    public var nextCycle: BillingCycle?
    public var cancelAtPeriodEnd = false
    /// The paid rollover-protection add-on (`rolloverProtection` is true while it or the plan
    /// gives protection).
    public var rolloverAddon = false
    /// The start of the last period whose renewal was handled (charged, declined or ended).
    public var renewedPeriod: Date?

    public init(
        organizationID: OrganizationID,
        name: String,
        credits: Int64,
        cycle: BillingCycle,
        rolloverProtection: Bool,
        startsAt: Date,
        active: Bool,
        updatedAt: Date
    ) {
        self.organizationID = organizationID
        self.name = name
        self.credits = credits
        self.cycle = cycle
        self.rolloverProtection = rolloverProtection
        self.startsAt = startsAt
        self.active = active
        self.updatedAt = updatedAt
    }
}

/// Plans, cycles and the lots whose expiry has come.
public struct PlanStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    public func plan(_ organization: OrganizationID) async throws -> Plan? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM plans WHERE organization_id = \(bind: organization.rawValue)").first().map(
                PlanStore.plan
            )
        }
    }

    /// Active plans the operator set by hand (subscriptions to the catalogue renew by their fee).
    public func activePlans() async throws -> [Plan] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM plans WHERE active = 1 AND catalogue_id IS NULL").all().map(PlanStore.plan)
        }
    }

    /// Saves the plan with its audit entry in the caller's unit of work (see `save`).
    @discardableResult
    public static func save(_ plan: Plan, now: Date, audits: [AuditRecord], in work: UnitOfWork) async throws -> Int {
        let sql = work.sql
        try await sql.raw(
            """
            INSERT INTO plans (organization_id, name, credits, cycle, rollover_protection, starts_at, active, updated_at, catalogue_id, status,
                               next_catalogue_id, next_cycle, cancel_at_period_end, rollover_addon, renewed_period)
            VALUES (\(bind: plan.organizationID.rawValue), \(bind: plan.name), \(bind: plan.credits), \(bind: plan.cycle.rawValue),
                    \(bind: plan.rolloverProtection ? 1 : 0), \(bind: plan.startsAt.milliseconds), \(bind: plan.active ? 1 : 0),
                    \(bind: plan.updatedAt.milliseconds), \(bind: plan.catalogueID), \(bind: plan.status.rawValue), \(bind: plan.nextCatalogueID),
                    \(bind: plan.nextCycle?.rawValue), \(bind: plan.cancelAtPeriodEnd ? 1 : 0), \(bind: plan.rolloverAddon ? 1 : 0),
                    \(bind: plan.renewedPeriod?.milliseconds))
            ON CONFLICT (organization_id) DO UPDATE SET name = excluded.name, credits = excluded.credits, cycle = excluded.cycle,
                rollover_protection = excluded.rollover_protection, starts_at = excluded.starts_at, active = excluded.active,
                updated_at = excluded.updated_at, catalogue_id = excluded.catalogue_id, status = excluded.status,
                next_catalogue_id = excluded.next_catalogue_id, next_cycle = excluded.next_cycle,
                cancel_at_period_end = excluded.cancel_at_period_end, rollover_addon = excluded.rollover_addon,
                renewed_period = excluded.renewed_period
            """
        ).run()
        try await AuditStore.insert(audits, in: work)
        guard plan.rolloverProtection && plan.active else { return 0 }
        let kept = try await sql.raw(
            """
            UPDATE ledger_lots SET expires_at = NULL
            WHERE organization_id = \(bind: plan.organizationID.rawValue) AND kind = 'plan' AND expires_at > \(bind: now.milliseconds)
            RETURNING id
            """
        ).all().count
        if kept > 0 { try await SQLLedgerStore.markChanged(plan.organizationID, on: sql) }
        return kept
    }

    /// Saves the outcome of renewing the period starting at `period`, once: only while the stored
    /// subscription has not recorded that period yet, or recorded it with another standing (a
    /// past-due period paid on retry). Returns false, writing nothing, otherwise.
    public static func saveRenewal(_ plan: Plan, period: Date, now: Date, audits: [AuditRecord], in work: UnitOfWork)
        async throws -> Bool
    {
        try await work.database.lockOrganization(plan.organizationID.rawValue, on: work.sql)
        let stored = try await work.sql.raw(
            "SELECT renewed_period, status, rollover_addon, active FROM plans WHERE organization_id = \(bind: plan.organizationID.rawValue)"
        ).first()
        if let stored, let renewed = try stored.optionalDate("renewed_period"), renewed >= period,
            try stored.value("status", as: String.self) == plan.status.rawValue,
            try stored.value("rollover_addon", as: Int.self) == (plan.rolloverAddon ? 1 : 0),
            try stored.value("active", as: Int.self) == (plan.active ? 1 : 0)
        {
            return false
        }
        try await save(plan, now: now, audits: audits, in: work)
        return true
    }

    /// Plan lots of an organisation made before `createdBefore` and still to expire after
    /// `instant` expire at it instead (the cycle they belong to ended early: an upgrade);
    /// returns how many.
    @discardableResult
    public static func expirePlanLots(
        _ organization: OrganizationID,
        at instant: Date,
        createdBefore: Date,
        in work: UnitOfWork
    ) async throws -> Int {
        let expiring = try await work.sql.raw(
            """
            UPDATE ledger_lots SET expires_at = \(bind: instant.milliseconds)
            WHERE organization_id = \(bind: organization.rawValue) AND kind = 'plan' AND expires_at > \(bind: instant.milliseconds)
              AND created_at < \(bind: createdBefore.milliseconds)
            RETURNING id
            """
        ).all().count
        if expiring > 0 { try await SQLLedgerStore.markChanged(organization, on: work.sql) }
        return expiring
    }

    /// Every subscription to a catalogue plan that is not cancelled.
    public func subscriptions() async throws -> [Plan] {
        try await database.read { sql in
            try await sql.raw(
                "SELECT * FROM plans WHERE active = 1 AND catalogue_id IS NOT NULL"
            ).all().map(PlanStore.plan)
        }
    }

    /// Saves the plan with its audit entry. With rollover protection, plan lots not yet expired
    /// stop expiring in the same transaction (their credits never move; only the promise
    /// changes); returns how many lots that was.
    @discardableResult
    public func save(_ plan: Plan, now: Date, audit: AuditRecord) async throws -> Int {
        try await database.unitOfWork { work in try await PlanStore.save(plan, now: now, audits: [audit], in: work) }
    }

    /// What the scheduler did with a plan's period.
    public enum CycleOutcome: String, Sendable {
        /// Its plan credits were granted.
        case granted
        /// It passed while no server ran and its credits would already have expired.
        case missed
    }

    /// Claims a period for an organisation in the caller's unit of work; false when it was
    /// already handled (the scheduler ran before, here or on another server).
    public static func claim(
        _ organization: OrganizationID,
        period: DateInterval,
        outcome: CycleOutcome,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> Bool {
        try await !work.sql.raw(
            """
            INSERT INTO plan_cycles (organization_id, period_start, period_end, outcome, created_at)
            VALUES (\(bind: organization.rawValue), \(bind: period.start.milliseconds), \(bind: period.end.milliseconds), \(bind: outcome.rawValue),
                    \(bind: instant.milliseconds))
            ON CONFLICT (organization_id, period_start) DO NOTHING RETURNING organization_id
            """
        ).all().isEmpty
    }

    /// Starts of the periods already handled for an organisation.
    public func handledPeriods(_ organization: OrganizationID) async throws -> Set<Date> {
        try await database.read { sql in
            Set(
                try await sql.raw(
                    "SELECT period_start FROM plan_cycles WHERE organization_id = \(bind: organization.rawValue)"
                ).all()
                    .map { Date(milliseconds: try $0.value("period_start", as: Int64.self)) }
            )
        }
    }

    /// Lots past their expiry that still hold free credits somewhere, oldest first.
    public func expiredLots(now: Date, limit: Int) async throws -> [(
        organization: OrganizationID, lot: LotID, expiresAt: Date
    )] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT l.id, l.organization_id, l.expires_at FROM ledger_lots l
                WHERE l.expires_at IS NOT NULL AND l.expires_at <= \(bind: now.milliseconds)
                  AND EXISTS (SELECT 1 FROM ledger_portions p WHERE p.lot_id = l.id AND p.balance > p.held)
                ORDER BY l.expires_at LIMIT \(bind: max(1, min(limit, 1000)))
                """
            ).all().map { row in
                (
                    OrganizationID(try row.value("organization_id")), LotID(try row.value("id")),
                    Date(milliseconds: try row.value("expires_at"))
                )
            }
        }
    }

    static func plan(_ row: any SQLRow) throws -> Plan {
        var plan = Plan(
            organizationID: OrganizationID(try row.value("organization_id")),
            name: try row.value("name"),
            credits: try row.value("credits"),
            cycle: BillingCycle(rawValue: try row.value("cycle")) ?? .monthly,
            rolloverProtection: try row.value("rollover_protection", as: Int.self) == 1,
            startsAt: Date(milliseconds: try row.value("starts_at")),
            active: try row.value("active", as: Int.self) == 1,
            updatedAt: Date(milliseconds: try row.value("updated_at"))
        )
        plan.catalogueID = try row.optional("catalogue_id")
        plan.status = Plan.Status(rawValue: try row.value("status")) ?? .active
        plan.nextCatalogueID = try row.optional("next_catalogue_id")
        plan.nextCycle = try row.optional("next_cycle", as: String.self).flatMap(BillingCycle.init(rawValue:))
        plan.cancelAtPeriodEnd = try row.value("cancel_at_period_end", as: Int.self) == 1
        plan.rolloverAddon = try row.value("rollover_addon", as: Int.self) == 1
        plan.renewedPeriod = try row.optionalDate("renewed_period")
        return plan
    }
}

/// The operator's plan catalogue.
public struct PlanCatalogueStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Adds a plan or replaces the one with its id, with the audit entry.
    public func define(_ plan: CataloguePlan, at instant: Date) async throws {
        let prices = String(
            decoding: try JSONEncoder().encode(PlanCatalogueStore.encodable(plan.prices)),
            as: UTF8.self
        )
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO plan_catalogue (id, name, credits, includes_rollover_protection, prices, position, active, updated_at)
                VALUES (\(bind: plan.id), \(bind: plan.name), \(bind: plan.creditsPerMonth), \(bind: plan.includesRolloverProtection ? 1 : 0),
                        \(bind: prices), \(bind: plan.position), \(bind: plan.active ? 1 : 0), \(bind: instant.milliseconds))
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, credits = excluded.credits,
                    includes_rollover_protection = excluded.includes_rollover_protection, prices = excluded.prices,
                    position = excluded.position, active = excluded.active, updated_at = excluded.updated_at
                """
            ).run()
        }
    }

    /// The catalogue in page order; with `activeOnly`, only plans on offer.
    public func plans(activeOnly: Bool) async throws -> [CataloguePlan] {
        try await database.read { sql in
            try await sql.raw(
                "SELECT * FROM plan_catalogue \(unsafeRaw: activeOnly ? "WHERE active = 1 " : "")ORDER BY position, id"
            ).all().map(PlanCatalogueStore.plan)
        }
    }

    public func plan(_ id: String) async throws -> CataloguePlan? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM plan_catalogue WHERE id = \(bind: id)").first().map(
                PlanCatalogueStore.plan
            )
        }
    }

    static func encodable(_ prices: [Country: PlanPrices]) -> [String: PlanPrices] {
        Dictionary(uniqueKeysWithValues: prices.map { ($0.key.rawValue, $0.value) })
    }

    static func plan(_ row: any SQLRow) throws -> CataloguePlan {
        let stored = try JSONDecoder().decode(
            [String: PlanPrices].self,
            from: Data(try row.value("prices", as: String.self).utf8)
        )
        var prices: [Country: PlanPrices] = [:]
        for (code, price) in stored { if let country = Country(rawValue: code) { prices[country] = price } }
        return CataloguePlan(
            id: try row.value("id"),
            name: try row.value("name"),
            creditsPerMonth: try row.value("credits"),
            includesRolloverProtection: try row.value("includes_rollover_protection", as: Int.self) == 1,
            prices: prices,
            position: try row.value("position"),
            active: try row.value("active", as: Int.self) == 1
        )
    }
}
