import CreditsCore
import Foundation
import SQLKit

/// A subscription that grants plan credits each month or year.
public struct Plan: Sendable, Equatable {
    public enum Cycle: String, Sendable, Codable {
        case monthly
        case yearly
    }

    public var organizationID: OrganizationID
    public var name: String
    public var credits: Int64
    public var cycle: Cycle
    /// Plan credits granted while on never expire ("rollover protection").
    public var rolloverProtection: Bool
    /// Cycles are counted from here (granted from the first cycle that contains it).
    public var startsAt: Date
    public var active: Bool
    public var updatedAt: Date

    public init(
        organizationID: OrganizationID,
        name: String,
        credits: Int64,
        cycle: Cycle,
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

    public func activePlans() async throws -> [Plan] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM plans WHERE active = 1").all().map(PlanStore.plan)
        }
    }

    /// Saves the plan with its audit entry. With rollover protection, plan lots not yet expired
    /// stop expiring in the same transaction (their credits never move; only the promise
    /// changes); returns how many lots that was.
    @discardableResult
    public func save(_ plan: Plan, now: Date, audit: AuditRecord) async throws -> Int {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO plans (organization_id, name, credits, cycle, rollover_protection, starts_at, active, updated_at)
                VALUES (\(bind: plan.organizationID.rawValue), \(bind: plan.name), \(bind: plan.credits), \(bind: plan.cycle.rawValue),
                        \(bind: plan.rolloverProtection ? 1 : 0), \(bind: plan.startsAt.milliseconds), \(bind: plan.active ? 1 : 0),
                        \(bind: plan.updatedAt.milliseconds))
                ON CONFLICT (organization_id) DO UPDATE SET name = excluded.name, credits = excluded.credits, cycle = excluded.cycle,
                    rollover_protection = excluded.rollover_protection, starts_at = excluded.starts_at, active = excluded.active,
                    updated_at = excluded.updated_at
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
            guard plan.rolloverProtection else { return 0 }
            return try await sql.raw(
                """
                UPDATE ledger_lots SET expires_at = NULL
                WHERE organization_id = \(bind: plan.organizationID.rawValue) AND kind = 'plan' AND expires_at > \(bind: now.milliseconds)
                RETURNING id
                """
            ).all().count
        }
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
        Plan(
            organizationID: OrganizationID(try row.value("organization_id")),
            name: try row.value("name"),
            credits: try row.value("credits"),
            cycle: Plan.Cycle(rawValue: try row.value("cycle")) ?? .monthly,
            rolloverProtection: try row.value("rollover_protection", as: Int.self) == 1,
            startsAt: Date(milliseconds: try row.value("starts_at")),
            active: try row.value("active", as: Int.self) == 1,
            updatedAt: Date(milliseconds: try row.value("updated_at"))
        )
    }
}
