import CreditsCore
import Foundation
import SQLKit
import TestSupport
import Testing

@testable import CreditsStore

/// A batch applied ahead of its transaction (`LedgerPipeline`) is written only if nothing changed
/// the organisation's ledger since the state it was applied to; otherwise it is applied again to
/// the ledger as it is. Each test below makes a plan, changes the ledger another way, and checks
/// that the plan is not written and the results are those of the ledger as it is.
@Suite struct LedgerPipelineTests {
    /// The ledger as a first batch left it, from a write without a plan.
    static func state(after operation: LedgerOperation, on org: LedgerTestOrganization) async throws -> LedgerState {
        let written = try await org.store.write([org.request(operation)], plan: nil, checking: false)
        #expect(!written.planned)
        _ = try written.results[0].get()
        return written.after
    }

    static func reserve(_ credits: Int64, on org: LedgerTestOrganization, account: AccountID? = nil) -> LedgerRequest {
        org.request(
            .reserve(
                hold: HoldID(Identifier.make("hold_")),
                account: account ?? org.pool,
                amount: Credits(credits: credits),
                reference: "msg_\(Identifier.make(""))",
                timeoutAt: LedgerTestOrganization.t0.addingTimeInterval(3600)
            )
        )
    }

    static func deposit(_ credits: Int64, into account: AccountID, kind: LotKind = .purchased, expiresAt: Date? = nil)
        -> LedgerOperation
    {
        .deposit(
            account: account,
            source: kind == .plan ? .planGrants : .purchases,
            amount: Credits(credits: credits),
            lot: LotID(Identifier.make("lot_")),
            kind: kind,
            expiresAt: expiresAt
        )
    }

    @Test(arguments: TestDatabase.available)
    func aPlanIsWrittenWhenNothingChangedInBetween(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            let state = try await Self.state(after: Self.deposit(10, into: org.pool), on: org)
            let first = [Self.reserve(4, on: org), Self.reserve(4, on: org)]
            let plan = try await org.store.plan(first, after: state)
            // The next batch is applied to the first plan's state before the first is written.
            let second = [Self.reserve(4, on: org)]
            let next = try await org.store.plan(second, after: plan.after)
            #expect(next.results.map { (try? $0.get()) != nil } == [false], "only 2 credits are left after the first")

            let written = try await org.store.write(first, plan: plan, checking: true)
            #expect(written.planned)
            let writtenNext = try await org.store.write(second, plan: next, checking: true)
            #expect(writtenNext.planned)
            #expect(writtenNext.results == next.results)
            #expect(try await org.account(org.pool)?.pending == Credits(credits: 8))
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    /// The attack: credits spent by another writer (a send's settlement writes through
    /// `SQLLedgerStore.apply(_:in:)`, outside the pipeline) between the plan and its transaction
    /// must not be reserved again.
    @Test(arguments: TestDatabase.available)
    func aPlanMadeBeforeAnotherWriterSpentTheCreditsIsNotWritten(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            let state = try await Self.state(after: Self.deposit(10, into: org.pool), on: org)
            let batch = [Self.reserve(6, on: org)]
            let plan = try await org.store.plan(batch, after: state)
            #expect((try? plan.results[0].get()) != nil, "applied ahead, 10 credits were there")

            _ = try await database.transaction { sql in
                try await org.store.apply([Self.reserve(7, on: org)], within: sql)[0].get()
            }
            let written = try await org.store.write(batch, plan: plan, checking: true)
            #expect(!written.planned)
            #expect(
                written.results[0]
                    == .failure(.insufficientCredits(available: Credits(credits: 3), requested: Credits(credits: 6)))
            )
            #expect(try await org.account(org.pool)?.pending == Credits(credits: 7))
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    /// Writes to the ledger's tables that do not go through a batch change its version too: an
    /// overdraft line, a new wallet, plan lots kept or expired early.
    @Test(arguments: TestDatabase.available)
    func everyOtherWriteToTheLedgerDiscardsAPlan(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            let grant = Self.deposit(
                10,
                into: org.pool,
                kind: .plan,
                expiresAt: LedgerTestOrganization.t0.addingTimeInterval(86_400)
            )
            var state = try await Self.state(after: grant, on: org)
            let changes: [(String, @Sendable () async throws -> Void)] = [
                (
                    "overdraft line",
                    {
                        try await org.store.setOverdraftLimit(
                            Credits(credits: 5),
                            for: org.pool,
                            organization: org.organization
                        )
                    }
                ),
                ("new wallet", { _ = try await org.wallet("carol") }),
                (
                    "plan lots expired early",
                    {
                        _ = try await database.transaction { sql in
                            try await PlanStore.expirePlanLots(
                                org.organization,
                                at: LedgerTestOrganization.t0.addingTimeInterval(60),
                                createdBefore: LedgerTestOrganization.t0.addingTimeInterval(1),
                                in: UnitOfWork(sql: sql, database: database)
                            )
                        }
                    }
                ),
            ]
            for (name, change) in changes {
                let batch = [Self.reserve(1, on: org)]
                let plan = try await org.store.plan(batch, after: state)
                try await change()
                let written = try await org.store.write(batch, plan: plan, checking: true)
                #expect(!written.planned, "\(name)")
                _ = try written.results[0].get()
                state = written.after
            }
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    /// A batch whose transaction failed leaves the version it found, so the batch applied ahead to
    /// its plan is applied again.
    @Test(arguments: TestDatabase.available)
    func aPlanMadeOnABatchThatWasNeverWrittenIsNotWritten(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            let state = try await Self.state(after: Self.deposit(10, into: org.pool), on: org)
            let lost = [Self.reserve(8, on: org)]
            let lostPlan = try await org.store.plan(lost, after: state)
            let batch = [Self.reserve(5, on: org)]
            let plan = try await org.store.plan(batch, after: lostPlan.after)
            #expect((try? plan.results[0].get()) == nil, "applied ahead, only 2 credits were left")

            let written = try await org.store.write(batch, plan: plan, checking: true)
            #expect(!written.planned)
            _ = try written.results[0].get()
            #expect(try await org.account(org.pool)?.pending == Credits(credits: 5))
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    /// What a batch in its transaction touched reaches the batch applied ahead of its commit: the
    /// hold it placed, the result under its key, and a lot it created and emptied.
    @Test(arguments: TestDatabase.available)
    func theNextBatchSeesWhatTheBatchInItsTransactionTouched(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            let wallet = try await org.wallet("alice")
            let state = try await Self.state(after: Self.deposit(10, into: org.pool), on: org)
            let hold = HoldID(Identifier.make("hold_"))
            let lot = LotID(Identifier.make("lot_"))
            let reserve = LedgerOperation.reserve(
                hold: hold,
                account: org.pool,
                amount: Credits(credits: 2),
                reference: "msg_1",
                timeoutAt: LedgerTestOrganization.t0.addingTimeInterval(3600)
            )
            let first = [
                org.request(reserve, key: "reserve-1"),
                org.request(
                    .deposit(
                        account: wallet,
                        source: .purchases,
                        amount: Credits(credits: 3),
                        lot: lot,
                        kind: .purchased,
                        expiresAt: nil
                    )
                ),
                org.request(.withdraw(account: wallet, amount: Credits(credits: 3))),
            ]
            let plan = try await org.store.plan(first, after: state)
            let second = [
                org.request(.post(hold: hold, amount: Credits(credits: 2))),
                org.request(reserve, key: "reserve-1"),
                org.request(.forfeit(lot: lot)),
            ]
            let next = try await org.store.plan(second, after: plan.after)
            #expect(try next.results[1].get().replayed)

            #expect(try await org.store.write(first, plan: plan, checking: true).planned)
            let written = try await org.store.write(second, plan: next, checking: true)
            #expect(written.planned)
            #expect(try written.results[0].get().holdStatus == .posted)
            #expect(try written.results[2].get().amount == .zero)
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    /// The attack: a hold placed by another writer after the state was read, posted by a batch
    /// applied ahead, would meet lots and balances the state does not have. The plan is not made
    /// (the version, read after the rows, tells), and the batch is applied in its transaction.
    @Test(arguments: TestDatabase.available)
    func noPlanIsMadeFromRowsSomeoneElseWroteSinceTheState(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            let state = try await Self.state(after: Self.deposit(10, into: org.pool), on: org)
            let reserve = Self.reserve(4, on: org)
            guard case .reserve(let hold, _, _, _, _) = reserve.operation else { return }
            _ = try await database.transaction { sql in
                try await org.store.apply([org.request(Self.deposit(5, into: org.pool)), reserve], within: sql)
            }
            let batch = [org.request(.post(hold: hold, amount: Credits(credits: 4)))]
            await #expect(throws: LedgerPlanError.self) { try await org.store.plan(batch, after: state) }
            let written = try await org.store.write(batch, plan: nil, checking: true)
            _ = try written.results[0].get()
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    /// PostgreSQL gets a batch's statements as one only when each table's rows are in one
    /// statement: the parts of one statement run in no set order.
    @Test func statementsAreCombinedOnlyOnePerStep() {
        typealias Step = LedgerChangesWriter.Statements.Step
        let statement: BulkRows.Statement = { "SELECT 1" }
        func statements(_ counts: [Int]) -> LedgerChangesWriter.Statements {
            LedgerChangesWriter.Statements(
                steps: counts.map { Step(statements: Array(repeating: statement, count: $0), faultPoint: true) }
            )
        }
        #expect(LedgerChangesWriter.combines(statements([1, 0, 1, 1])))
        #expect(!LedgerChangesWriter.combines(statements([1, 2, 1])), "a table's rows in two statements")
        #expect(!LedgerChangesWriter.combines(statements([1, 0])), "one statement alone")
        #expect(!LedgerChangesWriter.combines(statements(Array(repeating: 1, count: 25))))
    }

    /// PostgreSQL writes a plan as one statement that commits on its own and checks the version
    /// itself (`LedgerChangesWriter.checked`). The attack: another writer holds the organisation's
    /// lock, moves the ledger on and commits while the statement waits for the lock; the
    /// statement must then write nothing at all (neither a reserve's new rows nor a post's
    /// resolved hold), and the batch is applied again to the ledger as it is.
    @Test func aCheckedStatementWritesNothingIfTheLedgerMovedWhileItWaitedForTheLock() async throws {
        guard TestDatabase.available.contains(.postgres) else { return }
        try await TestDatabase.postgres.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            _ = try await Self.state(after: Self.deposit(10, into: org.pool), on: org)
            let held = HoldID(Identifier.make("hold_"))
            let reserve = org.request(
                .reserve(
                    hold: held,
                    account: org.pool,
                    amount: Credits(credits: 3),
                    reference: "msg_held",
                    timeoutAt: LedgerTestOrganization.t0.addingTimeInterval(3600)
                )
            )
            let reserved = try await org.store.write([reserve], plan: nil, checking: false)
            _ = try reserved.results[0].get()

            func count(_ query: SQLQueryString) async throws -> Int {
                try await database.read { sql in
                    try await sql.raw(query).first()?.decode(column: "n", as: Int.self) ?? -1
                }
            }
            func snapshot() async throws -> [Int] {
                [
                    try await count("SELECT COUNT(*) AS n FROM ledger_transfers"),
                    try await count("SELECT COUNT(*) AS n FROM ledger_holds"),
                    try await count("SELECT COUNT(*) AS n FROM ledger_entries"),
                    try await count("SELECT COUNT(*) AS n FROM ledger_hold_portions"),
                    try await count("SELECT COUNT(*) AS n FROM ledger_holds WHERE status = 'pending'"),
                ]
            }

            var state = reserved.after
            for (name, batch) in [
                ("a reserve", [Self.reserve(6, on: org)]),
                ("a post", [org.request(.post(hold: held, amount: Credits(credits: 3)))]),
            ] {
                let plan = try await org.store.plan(batch, after: state)
                let checked = try #require(plan.checked, "PostgreSQL writes a plan as one statement")
                #expect(plan.statements == nil)
                let before = try await snapshot()

                let (locked, lockedSignal) = AsyncStream.makeStream(of: Void.self)
                let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
                let other = Task {
                    try await database.transaction { sql in
                        _ = try await org.store.lockedVersion(of: org.organization, on: sql)
                        lockedSignal.yield()
                        for await _ in release { break }
                        try await SQLLedgerStore.markChanged(org.organization, on: sql)
                    }
                }
                for await _ in locked { break }
                let statement = Task {
                    try await database.autocommit { sql in
                        try await sql.raw(checked.statement).first()?.decode(column: "written", as: Int64.self)
                    }
                }
                // Released only once the statement is seen waiting for the organisation's lock.
                var waited = false
                for _ in 0..<500 where !waited {
                    waited =
                        try await count(
                            """
                            SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database()
                            AND wait_event_type = 'Lock' AND query LIKE 'WITH ledger_checked%'
                            """
                        ) > 0
                    if !waited { try await Task.sleep(for: .milliseconds(10)) }
                }
                #expect(waited, "\(name): the statement waits for the lock")
                releaseSignal.yield()
                try await other.value
                #expect(try await statement.value == 0, "\(name)")
                #expect(try await snapshot() == before, "\(name): nothing written")

                // Written through the store, the batch is applied again to the ledger as it is.
                let written = try await org.store.write(batch, plan: plan, checking: true)
                #expect(!written.planned, "\(name)")
                _ = try written.results[0].get()
                state = written.after
            }
            let pool = try #require(try await org.account(org.pool))
            #expect(pool.pending == Credits(credits: 6) && pool.balance == Credits(credits: 7))
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    /// SQLite writes a plan in its transaction, as before.
    @Test func sqliteHasNoCheckedStatement() async throws {
        try await TestDatabase.sqlite.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            let state = try await Self.state(after: Self.deposit(10, into: org.pool), on: org)
            let plan = try await org.store.plan([Self.reserve(6, on: org)], after: state)
            #expect(plan.checked == nil)
            #expect(plan.statements != nil)
        }
    }

    /// Many concurrent callers: most batches are written as applied ahead (each checked against
    /// the same batch applied in its transaction), every caller gets its own result, and the
    /// ledger verifies.
    @Test(arguments: TestDatabase.available)
    func concurrentCallersGetBatchesAppliedAhead(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            try await org.buy(500)
            let holds = (0..<600).map { _ in HoldID(Identifier.make("hold_")) }
            let reserved = try await withThrowingTaskGroup(of: Bool.self) { group in
                for hold in holds {
                    group.addTask {
                        let request = org.request(
                            .reserve(
                                hold: hold,
                                account: org.pool,
                                amount: Credits(credits: 1),
                                reference: "msg-\(hold)",
                                timeoutAt: LedgerTestOrganization.t0.addingTimeInterval(3600)
                            )
                        )
                        return (try? await org.ledger.apply(request).get()) != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(reserved == 500, "500 credits, 600 holds of 1")
            let posted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for hold in holds {
                    group.addTask {
                        (try? await org.ledger.apply(org.request(.post(hold: hold, amount: Credits(credits: 1)))).get())
                            != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(posted == 500)
            let batches = org.ledger.batchesWritten
            #expect(batches.ahead > 0, "\(batches)")
            let pool = try #require(try await org.account(org.pool))
            #expect(pool.balance == .zero && pool.pending == .zero)
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }
}
