import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import TestSupport
import Testing

@Suite struct LedgerStoreTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func migratingTwiceChangesNothing(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let applied = try await Migrator.migrate(database)
            #expect(applied.isEmpty)
            #expect(try await Migrator.currentVersion(database) == Migrator.latestVersion)
        }
    }

    @Test(arguments: stores)
    func creditsPersistAndHoldsSettle(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            try await org.buy(10)
            let hold = HoldID(Identifier.make("hold_"))
            _ = try await org.apply(
                .reserve(
                    hold: hold,
                    account: org.pool,
                    amount: Credits(credits: 3),
                    reference: "msg-1",
                    timeoutAt: LedgerTestOrganization.t0.addingTimeInterval(3600)
                )
            ).get()
            #expect(try await org.account(org.pool)?.pending == Credits(credits: 3))
            let posted = try await org.apply(.post(hold: hold, amount: Credits(credits: 2)), at: 5).get()
            #expect(posted.released == Credits(credits: 1))
            let pool = try #require(try await org.account(org.pool))
            #expect(pool.balance == Credits(credits: 8))
            #expect(pool.pending == .zero)
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    @Test(arguments: stores)
    func aRefusedReserveChangesNothing(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            try await org.buy(2)
            let result = try await org.apply(
                .reserve(
                    hold: HoldID("h"),
                    account: org.pool,
                    amount: Credits(credits: 3),
                    reference: "m",
                    timeoutAt: LedgerTestOrganization.t0
                )
            )
            #expect(
                result == .failure(.insufficientCredits(available: Credits(credits: 2), requested: Credits(credits: 3)))
            )
            #expect(try await org.account(org.pool)?.pending == .zero)
            let holds = try await database.read {
                try await $0.raw("SELECT COUNT(*) AS n FROM ledger_holds").first(decoding: Count.self)
            }
            #expect(holds?.n == 0)
        }
    }

    @Test(arguments: stores)
    func aRepeatedKeyReturnsTheFirstResultAcrossTransactions(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            let deposit = LedgerOperation.deposit(
                account: org.pool,
                source: .purchases,
                amount: Credits(credits: 100),
                lot: LotID("lot-1"),
                kind: .purchased,
                expiresAt: nil
            )
            let first = try await org.apply(deposit, key: "purchase-1").get()
            let again = try await org.apply(deposit, key: "purchase-1").get()
            #expect(again.replayed)
            #expect(again.transfer == first.transfer)
            #expect(try await org.account(org.pool)?.balance == Credits(credits: 100))
            let different = LedgerOperation.deposit(
                account: org.pool,
                source: .purchases,
                amount: Credits(credits: 200),
                lot: LotID("lot-2"),
                kind: .purchased,
                expiresAt: nil
            )
            #expect(
                try await org.apply(different, key: "purchase-1") == .failure(.idempotencyConflict(key: "purchase-1"))
            )
        }
    }

    @Test(arguments: stores)
    func statementsCarryRunningBalancesAndFilterByTime(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            let alice = try await org.wallet("alice")
            try await org.buy(10, at: 0)
            try await org.buy(5, at: 100)
            _ = try await org.apply(.transfer(from: org.pool, to: alice, amount: Credits(credits: 4)), at: 200).get()
            _ = try await org.apply(
                .spend(account: org.pool, amount: Credits(credits: 1), reference: "call-1"),
                at: 300
            ).get()
            let lines = try await org.store.statement(account: org.pool, organization: org.organization)
            #expect(lines.map(\.amount) == [10, 5, -4, -1].map { Credits(credits: $0) })
            #expect(lines.map(\.balanceAfter) == [10, 15, 11, 10].map { Credits(credits: $0) })
            #expect(lines.map(\.counterpartyKind) == [.purchases, .purchases, .wallet, .usage])
            let window = try await org.store.statement(
                account: org.pool,
                organization: org.organization,
                since: LedgerTestOrganization.t0.addingTimeInterval(100),
                until: LedgerTestOrganization.t0.addingTimeInterval(300)
            )
            #expect(window.map(\.amount) == [5, -4].map { Credits(credits: $0) })
            let page = try await org.store.statement(
                account: org.pool,
                organization: org.organization,
                afterID: lines[1].id,
                limit: 1
            )
            #expect(page.map(\.amount) == [Credits(credits: -4)])
            #expect(
                try await org.store.statement(account: alice, organization: org.organization).map(\.balanceAfter) == [
                    Credits(credits: 4)
                ]
            )
        }
    }

    @Test(arguments: stores)
    func anotherOrganisationsAccountIsUnknown(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let a = try await LedgerTestOrganization.make(on: database, name: "A")
            let b = try await LedgerTestOrganization.make(on: database, name: "B")
            try await a.buy(10)
            #expect(
                try await b.apply(.transfer(from: a.pool, to: b.pool, amount: Credits(credits: 1)))
                    == .failure(.unknownAccount(a.pool))
            )
            #expect(try await b.store.statement(account: a.pool, organization: b.organization).isEmpty)
            #expect(try await a.account(a.pool)?.balance == Credits(credits: 10))
        }
    }

    @Test(arguments: stores)
    func twoHundredConcurrentReservationsCompeteForFiftyCredits(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            try await org.buy(50)
            let timeout = LedgerTestOrganization.t0.addingTimeInterval(3600)
            let outcomes = try await withThrowingTaskGroup(of: Result<LedgerOutcome, LedgerError>.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await org.apply(
                            .reserve(
                                hold: HoldID("race-\(index)"),
                                account: org.pool,
                                amount: Credits(credits: 1),
                                reference: "msg-\(index)",
                                timeoutAt: timeout
                            )
                        )
                    }
                }
                var all: [Result<LedgerOutcome, LedgerError>] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let succeeded = outcomes.filter { if case .success = $0 { true } else { false } }
            #expect(succeeded.count == 50)
            #expect(
                outcomes.allSatisfy { result in
                    if case .failure(let error) = result { return error.code == "insufficient_credits" }
                    return true
                }
            )
            let pool = try #require(try await org.account(org.pool))
            #expect(pool.available == .zero)
            #expect(pool.balance == Credits(credits: 50))
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    @Test(arguments: stores)
    func theSchemaRefusesCorruptRowsEvenFromABug(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            try await org.buy(5)
            // A pool cannot be set below its overdraft line.
            await #expect(throws: (any Error).self) {
                try await database.transaction {
                    try await $0.raw("UPDATE ledger_accounts SET balance = -1, pending = 0 WHERE kind = 'pool'").run()
                }
            }
            // Entries are append-only.
            await #expect(throws: (any Error).self) {
                try await database.transaction {
                    try await $0.raw("UPDATE ledger_entries SET amount = amount + 1").run()
                }
            }
            await #expect(throws: (any Error).self) {
                try await database.transaction { try await $0.raw("DELETE FROM ledger_entries").run() }
            }
            // A resolved hold cannot change again.
            let hold = HoldID("h-final")
            _ = try await org.apply(
                .reserve(
                    hold: hold,
                    account: org.pool,
                    amount: Credits(credits: 1),
                    reference: "m",
                    timeoutAt: LedgerTestOrganization.t0
                )
            ).get()
            _ = try await org.apply(.void(hold: hold)).get()
            await #expect(throws: (any Error).self) {
                try await database.transaction {
                    try await $0.raw("UPDATE ledger_holds SET status = 'posted', posted_amount = 1000").run()
                }
            }
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    /// What ledger rows refer to must exist, be of their organisation, and stay: foreign keys on
    /// SQLite, statement-level checks and never-deleted accounts and lots on PostgreSQL (version 31).
    @Test(arguments: stores)
    func ledgerRowsReferOnlyToRowsThatExistAndStay(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let (org, other) = try await LedgerTestOrganization.pair(buying: 5, on: database)
            let entry = try await database.read { sql in
                try await sql.raw(
                    """
                    SELECT transfer_id, credit_account_id, debit_account_id FROM ledger_entries
                    WHERE organization_id = \(bind: org.organization.rawValue) LIMIT 1
                    """
                ).first()
            }
            let transfer: String = try #require(entry).decode(column: "transfer_id")
            func insertEntry(debit: String, credit: String, hold: String? = nil) async throws {
                try await database.transaction { sql in
                    try await sql.raw(
                        """
                        INSERT INTO ledger_entries (organization_id, transfer_id, seq, debit_account_id, debit_kind,
                            credit_account_id, credit_kind, amount, debit_balance_after, credit_balance_after, hold_id, created_at)
                        VALUES (\(bind: org.organization.rawValue), \(bind: transfer), 7, \(bind: debit), 'purchases',
                            \(bind: credit), 'pool', 1, 0, 0, \(bind: hold), 0)
                        """
                    ).run()
                }
            }
            let purchases: String = try #require(entry).decode(column: "debit_account_id")
            // An account that does not exist, another organisation's pool, a hold that does not exist.
            await #expect(throws: (any Error).self) {
                try await insertEntry(debit: "acc_missing", credit: org.pool.rawValue)
            }
            if store == .postgres {
                await #expect(throws: (any Error).self) {
                    try await insertEntry(debit: purchases, credit: other.pool.rawValue)
                }
            }
            await #expect(throws: (any Error).self) {
                try await insertEntry(debit: purchases, credit: org.pool.rawValue, hold: "hold_missing")
            }
            // A transfer of an organisation that does not exist.
            await #expect(throws: (any Error).self) {
                try await database.transaction { sql in
                    try await sql.raw(
                        """
                        INSERT INTO ledger_transfers (id, organization_id, idempotency_key, operation, fingerprint, amount,
                            released, actor, memo, created_at)
                        VALUES ('tr_stray', 'org_missing', 'stray', 'deposit', 'f', 1, 0, 'test', 'stray', 0)
                        """
                    ).run()
                }
            }
            // A lot movement of a lot that does not exist.
            await #expect(throws: (any Error).self) {
                try await database.transaction { sql in
                    try await sql.raw(
                        """
                        INSERT INTO ledger_lot_movements (transfer_id, entry_seq, account_id, lot_id, delta)
                        VALUES (\(bind: transfer), 0, \(bind: org.pool.rawValue), 'lot_missing', 1)
                        """
                    ).run()
                }
            }
            let pending = HoldID("h-pending")
            _ = try await org.apply(
                .reserve(
                    hold: pending,
                    account: org.pool,
                    amount: Credits(credits: 1),
                    reference: "m",
                    timeoutAt: LedgerTestOrganization.t0.addingTimeInterval(3600)
                )
            ).get()
            let lot = try await org.purchasedLot()
            let (ownTransfer, othersTransfer) = try await database.read { sql in
                func transfer(of organization: OrganizationID) async throws -> String {
                    try #require(
                        try await sql.raw(
                            "SELECT id FROM ledger_transfers WHERE organization_id = \(bind: organization.rawValue) LIMIT 1"
                        ).first()
                    ).decode(column: "id", as: String.self)
                }
                return (try await transfer(of: org.organization), try await transfer(of: other.organization))
            }
            func refused(_ statements: [SQLQueryString], sourceLocation: SourceLocation = #_sourceLocation) async {
                await #expect(throws: (any Error).self, sourceLocation: sourceLocation) {
                    try await database.transaction { sql in
                        for statement in statements { try await sql.raw(statement).run() }
                    }
                }
            }
            // A hold portion of a hold that does not exist; a lot movement of an entry that does not.
            await refused([
                "INSERT INTO ledger_hold_portions (hold_id, seq, lot_id, amount) VALUES ('hold_missing', 0, \(bind: lot), 1)"
            ])
            await refused([
                """
                INSERT INTO ledger_lot_movements (transfer_id, entry_seq, account_id, lot_id, delta)
                VALUES (\(bind: transfer), 99, \(bind: org.pool.rawValue), \(bind: lot), 1)
                """
            ])
            // A hold, an account or a lot that rows refer to keeps its id and is never deleted, even
            // once nothing but the ledger's own rows refer to it.
            await refused(["UPDATE ledger_holds SET id = 'h-renamed' WHERE id = \(bind: pending.rawValue)"])
            await refused([
                "DELETE FROM ledger_portions WHERE account_id = \(bind: org.pool.rawValue)",
                "DELETE FROM ledger_accounts WHERE id = \(bind: org.pool.rawValue)",
            ])
            await refused([
                "DELETE FROM ledger_portions WHERE lot_id = \(bind: lot)",
                "UPDATE ledger_lots SET id = 'lot_renamed' WHERE id = \(bind: lot)",
            ])
            if store == .postgres {
                // Stricter than the keys were: rows of one organisation never name another's.
                await refused([
                    """
                    INSERT INTO ledger_entries (organization_id, transfer_id, seq, debit_account_id, debit_kind,
                        credit_account_id, credit_kind, amount, debit_balance_after, credit_balance_after, created_at)
                    VALUES (\(bind: org.organization.rawValue), \(bind: othersTransfer), 7, \(bind: purchases), 'purchases',
                        \(bind: org.pool.rawValue), 'pool', 1, 0, 0, 0)
                    """
                ])
                // A hold resolved by another organisation's transfer (version 33 looks up only this).
                await refused([
                    """
                    UPDATE ledger_holds SET status = 'voided', resolved_at = 1, resolve_transfer_id = \(bind: othersTransfer)
                    WHERE id = \(bind: pending.rawValue)
                    """
                ])
                await refused(["TRUNCATE ledger_entries"])
                await refused(["TRUNCATE ledger_lot_movements"])
            }
            // A hold keeps what it was reserved with (version 33): not another organisation's
            // account or another organisation, which SQLite's keys allowed, nor another amount or
            // reserving transfer.
            await refused([
                "UPDATE ledger_holds SET account_id = \(bind: other.pool.rawValue) WHERE id = \(bind: pending.rawValue)"
            ])
            await refused([
                "UPDATE ledger_holds SET organization_id = \(bind: other.organization.rawValue) WHERE id = \(bind: pending.rawValue)"
            ])
            await refused(["UPDATE ledger_holds SET amount = 1 WHERE id = \(bind: pending.rawValue)"])
            await refused([
                "UPDATE ledger_holds SET reserve_transfer_id = \(bind: othersTransfer) WHERE id = \(bind: pending.rawValue)"
            ])
            // What a resolution changes still goes through (rolled back, so that the verifier below
            // sees only the stray entry).
            struct RolledBack: Error {}
            await #expect(throws: RolledBack.self) {
                try await database.transaction { sql in
                    try await sql.raw(
                        """
                        UPDATE ledger_holds SET status = 'voided', resolved_at = 1, resolve_transfer_id = \(bind: ownTransfer)
                        WHERE id = \(bind: pending.rawValue)
                        """
                    ).run()
                    throw RolledBack()
                }
            }
            // A well-formed entry (of a transfer's own organisation and accounts) still goes in.
            #expect(try await LedgerVerifier(database: database).verify() == [])
            try await insertEntry(debit: purchases, credit: org.pool.rawValue)
            #expect(
                !(try await LedgerVerifier(database: database).verify().isEmpty),
                "the verifier sees the stray entry"
            )
        }
    }

    /// An entry that moves one lot names it in its own row, with no row of `ledger_lot_movements`
    /// (version 34); one between two accounts that hold credits keeps its movements as rows. What
    /// an entry names must exist (and, on PostgreSQL, be of its organisation), only an entry with
    /// one side that holds credits may name a lot, and the verifier counts a named lot as the
    /// movement it stands for, so an entry that both names a lot and has rows of its own is found.
    @Test(arguments: stores)
    func anEntryThatMovesOneLotNamesIt(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let (org, other) = try await LedgerTestOrganization.pair(buying: 5, on: database)
            let lot = try await org.purchasedLot()  // read before the second purchase below
            let hold = HoldID("h-named")
            _ = try await org.apply(
                .reserve(
                    hold: hold,
                    account: org.pool,
                    amount: Credits(credits: 2),
                    reference: "m",
                    timeoutAt: LedgerTestOrganization.t0.addingTimeInterval(3600)
                )
            ).get()
            _ = try await org.apply(.post(hold: hold, amount: Credits(credits: 1))).get()
            let wallet = try await org.wallet("staff_1")
            _ = try await org.apply(.transfer(from: org.pool, to: wallet, amount: Credits(credits: 1))).get()
            // 3 credits left: a call of 4 runs 1 into the overdraft line, and a purchase of 1 repays it.
            try await org.store.setOverdraftLimit(Credits(credits: 2), for: org.pool, organization: org.organization)
            _ = try await org.apply(.spend(account: org.pool, amount: Credits(credits: 4), reference: "call")).get()
            try await org.buy(1)

            struct Written: Decodable {
                let transfer: String
                let debit: String
                let credit: String
                let lot: String?
                let movements: Int
            }
            let written = try await database.read { sql in
                try await sql.raw(
                    """
                    SELECT e.transfer_id AS transfer, e.debit_kind AS debit, e.credit_kind AS credit, e.lot_id AS lot,
                           (SELECT COUNT(*) FROM ledger_lot_movements m WHERE m.transfer_id = e.transfer_id AND m.entry_seq = e.seq) AS movements
                    FROM ledger_entries e WHERE e.organization_id = \(bind: org.organization.rawValue) ORDER BY e.id
                    """
                ).all(decoding: Written.self)
            }
            // The purchase, the charge, the transfer to the wallet, the call, the repayment, in order.
            #expect(
                written.map { "\($0.debit)>\($0.credit)" } == [
                    "purchases>pool", "pool>usage", "pool>wallet", "pool>usage", "purchases>pool",
                ]
            )
            let overdraft = LedgerBook.overdraftLot(of: org.pool).rawValue
            #expect(written.map(\.lot) == [lot, lot, nil, nil, overdraft])
            #expect(
                written.map(\.movements) == [0, 0, 2, 2, 0],
                "rows only for the entry between two holding accounts and the call that took two lots"
            )
            #expect(try await LedgerVerifier(database: database).verify() == [])

            let purchase = written[0]
            func insertEntry(lot: String, seq: Int, debitKind: String = "purchases", creditKind: String = "pool")
                async throws
            {
                try await database.transaction { sql in
                    try await sql.raw(
                        """
                        INSERT INTO ledger_entries (organization_id, transfer_id, seq, debit_account_id, debit_kind,
                            credit_account_id, credit_kind, amount, debit_balance_after, credit_balance_after, lot_id, created_at)
                        SELECT organization_id, transfer_id, \(bind: seq), debit_account_id, \(bind: debitKind),
                            \(bind: org.pool.rawValue), \(bind: creditKind), 1, 0, 0, \(bind: lot), 0
                        FROM ledger_entries WHERE transfer_id = \(bind: purchase.transfer) AND seq = 0
                        """
                    ).run()
                }
            }
            func refused(
                _ reason: String,
                sourceLocation: SourceLocation = #_sourceLocation,
                _ attempt: () async throws -> Void
            ) async {
                do {
                    try await attempt()
                    Issue.record("written, but should be refused: \(reason)", sourceLocation: sourceLocation)
                } catch {
                    let described = String(reflecting: error)
                    #expect(described.contains(reason), "\(described)", sourceLocation: sourceLocation)
                }
            }
            let missing =
                store == .postgres ? "a ledger entry names a lot its organisation does not have" : "FOREIGN KEY"
            let bothOrNeither = store == .postgres ? "ledger_entries_lot_side" : "CHECK constraint failed"
            // A lot that does not exist; an entry between two accounts that hold credits, or
            // between two that do not. (Each at its own place in the transfer, so that none is
            // refused only as a second row there.)
            await refused(missing) { try await insertEntry(lot: "lot_missing", seq: 7) }
            await refused(bothOrNeither) { try await insertEntry(lot: lot, seq: 8, debitKind: "wallet") }
            await refused(bothOrNeither) { try await insertEntry(lot: lot, seq: 9, creditKind: "adjustments") }
            if store == .postgres {
                // Another organisation's lot (SQLite's key checks only that it exists).
                let othersLot = try await other.purchasedLot()
                await refused(missing) { try await insertEntry(lot: othersLot, seq: 10) }
            }
            #expect(try await LedgerVerifier(database: database).verify() == [], "nothing refused was written")

            // Rows of its own beside the lot the purchase names: first two that cancel out (no sum
            // changes, so only the rule that a named lot has no rows finds them), then its movement
            // again, which would move its lot twice.
            func addMovement(_ delta: String) async throws {
                try await database.transaction { sql in
                    try await sql.raw(
                        """
                        INSERT INTO ledger_lot_movements (transfer_id, entry_seq, account_id, lot_id, delta)
                        SELECT transfer_id, seq, credit_account_id, lot_id, \(unsafeRaw: delta) FROM ledger_entries
                        WHERE transfer_id = \(bind: purchase.transfer) AND seq = 0
                        """
                    ).run()
                }
            }
            try await addMovement("1")
            try await addMovement("-1")
            #expect(
                try await LedgerVerifier(database: database).verify().map(\.invariant) == ["named_lot_without_rows"]
            )
            try await addMovement("amount")
            let violations = try await LedgerVerifier(database: database).verify().map(\.invariant)
            #expect(violations.contains("movements_match_entry"))
            #expect(violations.contains("portion_matches_movements"))
        }
    }

    @Test(arguments: stores)
    func verifyNamesATamperedBalance(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            try await org.buy(5)
            try await database.transaction { sql in
                try await sql.raw(
                    "UPDATE ledger_accounts SET balance = balance + 1000 WHERE id = \(bind: org.pool.rawValue)"
                ).run()
            }
            let violations = try await LedgerVerifier(database: database).verify()
            #expect(violations.map(\.invariant).contains("balance_matches_entries"))
            #expect(violations.map(\.invariant).contains("zero_sum"))
            #expect(violations.contains { $0.detail.contains(org.pool.rawValue) })
        }
    }

    @Test(arguments: stores)
    func verifyNamesATamperedEntry(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let org = try await LedgerTestOrganization.make(on: database)
            try await org.buy(5)
            try await org.buy(7)
            try await database.transaction { sql in
                if database.dialect == .sqlite {
                    try await sql.raw("DROP TRIGGER ledger_entries_append_only_update").run()
                } else {
                    try await sql.raw("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only").run()
                }
                try await sql.raw(
                    "UPDATE ledger_entries SET amount = amount + 1 WHERE id = (SELECT MIN(id) FROM ledger_entries)"
                ).run()
            }
            let violations = try await LedgerVerifier(database: database).verify()
            #expect(violations.map(\.invariant).contains("running_balance"))
            #expect(violations.map(\.invariant).contains("balance_matches_entries"))
        }
    }
}

struct Count: Decodable { let n: Int }
