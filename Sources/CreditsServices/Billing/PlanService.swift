import CreditsCore
import CreditsStore
import Foundation
import Logging

/// A plan as the API shows it.
public struct PlanView: Encodable, Sendable {
    public var name: String
    public var credits: Int64
    public var cycle: String
    public var rolloverProtection: Bool
    public var startsAt: Date
    public var active: Bool
    /// The period now running and when its plan credits expire (nil with rollover protection).
    public var currentPeriod: PeriodView?

    public struct PeriodView: Encodable, Sendable {
        public var start: Date
        public var end: Date
    }

    enum CodingKeys: String, CodingKey {
        case name, credits, cycle, active
        case rolloverProtection = "rollover_protection"
        case startsAt = "starts_at"
        case currentPeriod = "current_period"
    }
}

/// Plans: plan credits granted each cycle (expiring at its end unless rollover protection is
/// on), staff monthly allotments granted from the pool at each cycle, and expiry of lots whose
/// time has come. The scheduler claims each (organisation, period) once, so running it twice,
/// on two servers or after downtime grants nothing twice.
public struct PlanService: Sendable {
    let store: PlanStore
    let database: any Database
    let ledgerStore: SQLLedgerStore
    let ledger: Ledger
    let credits: CreditService
    let organizations: OrganizationStore
    let numbers: NumberStore
    let numberCharges: NumberCharges
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        store: PlanStore,
        database: any Database,
        ledgerStore: SQLLedgerStore,
        ledger: Ledger,
        credits: CreditService,
        organizations: OrganizationStore,
        numbers: NumberStore,
        numberCharges: NumberCharges,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.numbers = numbers
        self.numberCharges = numberCharges
        self.store = store
        self.database = database
        self.ledgerStore = ledgerStore
        self.ledger = ledger
        self.credits = credits
        self.organizations = organizations
        self.now = now
        self.logger = logger
    }

    /// `textcredits plans set`.
    public func setPlan(
        _ organization: OrganizationID,
        name: String,
        credits: Int64,
        cycle: BillingCycle,
        rolloverProtection: Bool,
        startsAt: Date?,
        active: Bool,
        actor: Actor
    ) async throws -> Plan {
        guard credits > 0, credits <= 10_000_000 else { throw PlanError.creditsOutOfRange }
        let name = try InputRules.name(name, field: "name", limit: 100)
        let now = now()
        let plan = Plan(
            organizationID: organization,
            name: name,
            credits: credits,
            cycle: cycle,
            rolloverProtection: rolloverProtection,
            startsAt: startsAt ?? now,
            active: active,
            updatedAt: now
        )
        let protection =
            rolloverProtection
            ? " with rollover protection (plan credits, including those already granted, never expire)" : ""
        try await store.save(
            plan,
            now: now,
            audit: AuditRecord(
                organization: organization,
                actor: actor,
                action: .planUpdated,
                message: active
                    ? "Plan set to \(name): \(credits) plan credits each \(cycle == .monthly ? "month" : "year")\(protection)."
                    : "Plan \(name) ended.",
                subjectType: "organization",
                subjectID: organization.rawValue,
                at: now
            )
        )
        return plan
    }

    /// `GET /v1/billing/plan`.
    public func view(_ principal: Principal) async throws -> PlanView? {
        guard let plan = try await store.plan(principal.organizationID) else { return nil }
        let zone = principal.organization.zone
        let current = PlanCycles.periods(
            startingAt: plan.startsAt,
            yearly: plan.cycle == .yearly,
            timeZone: zone,
            through: now()
        ).last
        return PlanView(
            name: plan.name,
            credits: plan.credits,
            cycle: plan.cycle.rawValue,
            rolloverProtection: plan.rolloverProtection,
            startsAt: plan.startsAt,
            active: plan.active,
            currentPeriod: current.map { .init(start: $0.start, end: $0.end) }
        )
    }

    /// Grants every period that has begun and was not handled yet, for at most `limit` plans a
    /// pass (a background job); returns how many periods it handled. A past period whose credits
    /// would already have expired is recorded as missed.
    @discardableResult
    public func runCycles(limit: Int = 1000) async throws -> Int {
        let now = now()
        var handled = 0
        for plan in try await store.activePlans().prefix(limit) {
            guard let organization = try await organizations.organization(plan.organizationID) else { continue }
            let zone = organization.zone
            let done = try await store.handledPeriods(organization.id)
            let periods = PlanCycles.periods(
                startingAt: plan.startsAt,
                yearly: plan.cycle == .yearly,
                timeZone: zone,
                through: now
            )
            for period in periods where !done.contains(period.start) {
                if period.end <= now && !plan.rolloverProtection {
                    try await recordMissed(plan, period: period, now: now)
                } else {
                    _ = try await grant(plan, period: period, now: now)
                }
                handled += 1
            }
        }
        return handled
    }

    func grant(_ plan: Plan, period: DateInterval, now: Date) async throws -> Bool {
        let pool = try await credits.pool(of: plan.organizationID)
        let expiresAt = plan.rolloverProtection ? nil : period.end
        let expiry = expiresAt.map { " expiring \(ISO8601DateFormatter().string(from: $0))" } ?? " that never expire"
        let request = LedgerRequest(
            organization: plan.organizationID,
            idempotencyKey: "plan-grant:\(period.start.milliseconds)",
            operation: .deposit(
                account: pool.id,
                source: .planGrants,
                amount: Credits(credits: plan.credits),
                lot: LotID(Identifier.make("lot_")),
                kind: .plan,
                expiresAt: expiresAt
            ),
            at: now,
            actor: Actor.system.reference,
            memo: "Plan \(plan.name): \(plan.credits) plan credits",
            audit: AuditRecord(
                organization: plan.organizationID,
                actor: .system,
                action: .planGranted,
                message:
                    "Plan \(plan.name): \(plan.credits) plan credits granted\(expiry). Pool balance \(.balanceAfter).",
                subjectType: "organization",
                subjectID: plan.organizationID.rawValue,
                at: now
            )
        )
        let ledgerStore = ledgerStore
        return try await database.unitOfWork { work in
            guard try await PlanStore.claim(plan.organizationID, period: period, outcome: .granted, at: now, in: work)
            else { return false }
            _ = try await ledgerStore.apply([request], in: work).first?.get()
            return true
        }
    }

    func recordMissed(_ plan: Plan, period: DateInterval, now: Date) async throws {
        let formatter = ISO8601DateFormatter()
        let audit = AuditRecord(
            organization: plan.organizationID,
            actor: .system,
            action: .planMissed,
            message:
                "Plan \(plan.name): the cycle \(formatter.string(from: period.start)) – \(formatter.string(from: period.end)) passed while the server was stopped; its plan credits would already have expired, so none were granted.",
            subjectType: "organization",
            subjectID: plan.organizationID.rawValue,
            at: now
        )
        try await database.unitOfWork { work in
            guard try await PlanStore.claim(plan.organizationID, period: period, outcome: .missed, at: now, in: work)
            else { return }
            try await AuditStore.insert([audit], in: work)
        }
    }

    // MARK: The credit month

    /// At the start of each organisation's credit month (its allotment day, with or without a
    /// plan): each phone number's monthly credits are charged from the pool, then each staff
    /// member's allotment moves from the pool to their wallet. Each is claimed once per month
    /// and organisation, so two servers or a restart never do it twice. At most `limit`
    /// organisations a pass; returns how many it handled.
    @discardableResult
    public func runMonthly(limit: Int = 100) async throws -> Int {
        var handled = 0
        let instant = now()
        for id in try await organizations.organizationIDs() where handled < limit {
            guard let organization = try await organizations.organization(id), organization.markedSpamAt == nil else {
                continue
            }
            let month = CreditMonth.containing(instant, day: organization.allotmentDay, timeZone: organization.zone)
            // A month is handled only if it began after the organisation did.
            guard month.start >= Calendar(identifier: .gregorian).startOfDay(for: organization.createdAt) else {
                continue
            }
            // Each is done before it is claimed (its ledger keys make a repeat harmless), so a
            // stop in between repeats it rather than skipping the month.
            var did = false
            if try await !organizations.monthlyRunDone(id, kind: "numbers", period: month.start) {
                try await chargeNumbers(organization, month: month, at: instant)
                did = try await claim(id, kind: "numbers", month: month, at: instant) || did
            }
            if try await !organizations.monthlyRunDone(id, kind: "allotments", period: month.start) {
                // With shared credits nobody sends from a wallet: nothing is allotted.
                if organization.creditMode == .individual {
                    try await grantAllotments(organization, period: month, now: instant)
                }
                did = try await claim(id, kind: "allotments", month: month, at: instant) || did
            }
            if did { handled += 1 }
        }
        return handled
    }

    func claim(_ organization: OrganizationID, kind: String, month: DateInterval, at instant: Date) async throws -> Bool
    {
        try await database.unitOfWork { work in
            try await OrganizationStore.claimMonthlyRun(
                organization,
                kind: kind,
                period: month.start,
                at: instant,
                in: work
            )
        }
    }

    /// What each number costs a month (PastorsLine: 125 credits), and their total.
    public func numberCredits(_ organization: Organization) async throws -> [(number: AssignedNumber, credits: Credits)]
    {
        try await numbers.numbers(of: organization.id).map { number in
            (number, Credits(credits: numberCharges.credits(kind: number.kind, country: organization.country)))
        }
    }

    /// Each number's monthly credits are spent from the pool; a number the pool cannot pay for
    /// is audited (receiving still works; the charge is not retried, so a month is never paid twice).
    func chargeNumbers(_ organization: Organization, month: DateInterval, at instant: Date) async throws {
        let pool = try await credits.pool(of: organization.id)
        for (number, cost) in try await numberCredits(organization) where cost.isPositive {
            let request = LedgerRequest(
                organization: organization.id,
                idempotencyKey: "number-month:\(number.number):\(month.start.milliseconds)",
                operation: .spend(account: pool.id, amount: cost, reference: "number:\(number.number)"),
                at: instant,
                actor: Actor.system.reference,
                memo: "Phone number \(number.number): \(cost) credits for the month",
                audit: AuditRecord(
                    organization: organization.id,
                    actor: .system,
                    action: .numberCharged,
                    message:
                        "Phone number \(number.number): \(cost) credits for the month. Pool balance \(.balanceAfter).",
                    subjectType: "number",
                    subjectID: number.number,
                    at: instant
                )
            )
            if case .failure(let error) = try await ledger.apply(request) {
                try await AuditStore.insert(
                    [
                        AuditRecord(
                            organization: organization.id,
                            actor: .system,
                            action: .numberChargeFailed,
                            message:
                                "Phone number \(number.number) could not be charged its \(cost) credits for the month: \(error.message) It keeps receiving texts.",
                            subjectType: "number",
                            subjectID: number.number,
                            at: instant
                        )
                    ],
                    into: database
                )
            }
        }
    }

    /// Each staff member's monthly allotment moves from the pool to their wallet, once a month.
    func grantAllotments(_ organization: Organization, period: DateInterval, now: Date) async throws {
        let pool = try await credits.pool(of: organization.id)
        // Owners and admins use the shared pool; an allotment stored for one before that rule
        // existed is not granted.
        for member in try await organizations.staff(of: organization.id)
        where member.monthlyAllotment.isPositive && !member.role.sharesPool {
            guard let wallet = member.wallet else { continue }
            let request = LedgerRequest(
                organization: organization.id,
                idempotencyKey: "allotment:\(member.id):\(period.start.milliseconds)",
                operation: .transfer(from: pool.id, to: wallet, amount: member.monthlyAllotment),
                at: now,
                actor: Actor.system.reference,
                memo: "Monthly allotment for \(member.name)",
                audit: AuditRecord(
                    organization: organization.id,
                    actor: .system,
                    action: .creditsAllotted,
                    message: "\(member.monthlyAllotment) credits allotted to \(member.name) for this month.",
                    subjectType: "staff",
                    subjectID: member.id,
                    at: now
                )
            )
            if case .failure(let error) = try await ledger.apply(request) {
                logger.warning("allotment not granted", metadata: ["staff": "\(member.id)", "error": "\(error.code)"])
                try await AuditStore.insert(
                    [
                        AuditRecord(
                            organization: organization.id,
                            actor: .system,
                            action: .allotmentFailed,
                            message:
                                "The monthly allotment of \(member.monthlyAllotment) credits for \(member.name) could not be granted: \(error.message)",
                            subjectType: "staff",
                            subjectID: member.id,
                            at: now
                        )
                    ],
                    into: database
                )
            }
        }
    }

    /// Moves what is left of lots past their expiry to `expired` (they stopped counting at the
    /// instant itself; this records it), at most `limit` lots a pass (a background job); returns
    /// how many lots it expired.
    @discardableResult
    public func runExpiry(limit: Int = 100) async throws -> Int {
        var expired = 0
        for (organization, lot, expiresAt) in try await store.expiredLots(now: now(), limit: limit) {
            let request = LedgerRequest(
                organization: organization,
                idempotencyKey: "expire:\(lot)",
                operation: .expire(lot: lot),
                at: now(),
                actor: Actor.system.reference,
                memo: "Plan credits expired at \(ISO8601DateFormatter().string(from: expiresAt))",
                audit: AuditRecord(
                    organization: organization,
                    actor: .system,
                    action: .creditsExpired,
                    message: "\(.counted("plan credit")) expired at the end of their cycle.",
                    subjectType: "lot",
                    subjectID: lot.rawValue,
                    at: now()
                )
            )
            if case .success(let outcome) = try await ledger.apply(request), !outcome.replayed { expired += 1 }
        }
        return expired
    }
}
