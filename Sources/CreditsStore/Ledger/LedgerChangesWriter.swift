import CreditsCore
import Foundation
import SQLKit

/// Writes what a batch changed, in foreign-key order: inside the batch's transaction, or on
/// PostgreSQL as one statement that checks the ledger's version itself (`checked`).
enum LedgerChangesWriter {
    /// One row of `ledger_entries`: the entry with its place in its transfer, its accounts' kinds
    /// and the lot it names (`namedLot`).
    struct EntryRow: Sendable {
        let entry: LedgerEntry
        let seq: Int
        let debitKind: String
        let creditKind: String
        let lot: LotID?
    }

    /// The lot an entry names in its own row (version 34) instead of a row of
    /// `ledger_lot_movements`: when exactly one of its sides holds credits and its one movement
    /// moves the whole amount of that side, out of a debit or into a credit. Nil otherwise (the
    /// movements are written as rows). `LedgerVerifier.movements` reads it back the same way.
    static func namedLot(_ entry: LedgerEntry, debit: AccountKind?, credit: AccountKind?) -> LotID? {
        let debitHolds = debit?.holdsCredits == true
        guard entry.lotMovements.count == 1, debitHolds != (credit?.holdsCredits == true) else { return nil }
        let movement = entry.lotMovements[0]
        let moved =
            debitHolds
            ? LotMovement(account: entry.debit, lot: movement.lot, delta: -entry.amount)
            : LotMovement(account: entry.credit, lot: movement.lot, delta: entry.amount)
        guard movement == moved else { return nil }
        return movement.lot
    }

    /// One row of `ledger_lot_movements`.
    struct MovementRow: Sendable {
        let transfer: TransferID
        let seq: Int
        let movement: LotMovement
    }

    /// One row of `ledger_hold_portions`.
    struct HoldPortionRow: Sendable {
        let hold: HoldID
        let seq: Int
        let portion: HoldPortion
    }

    /// One row of `ledger_portions`.
    struct PortionRow: Sendable {
        let key: PortionKey
        let portion: Portion
        let overdraft: Bool
    }

    static func transferRows(_ organization: String) -> BulkTable<
        (request: LedgerRequest, outcome: LedgerOutcome, fingerprint: String)
    > {
        BulkTable(
            name: "ledger_transfers",
            columns: [
                .text("id") { $0.outcome.transfer.rawValue }, .text("organization_id") { _ in organization },
                .text("idempotency_key") { $0.request.idempotencyKey }, .text("operation") { $0.outcome.operation },
                .text("fingerprint") { $0.fingerprint },
                .bigint("amount") { $0.outcome.amount.milli },
                .bigint("released") { $0.outcome.released.milli }, .text("hold_id") { $0.outcome.hold?.rawValue },
                .text("hold_status") { $0.outcome.holdStatus?.rawValue },
                .bigint("balance_after") { $0.outcome.balanceAfter?.milli },
                .bigint("available_after") { $0.outcome.availableAfter?.milli }, .text("actor") { $0.request.actor },
                .text("memo") { $0.request.memo }, .bigint("created_at") { $0.request.at.milliseconds },
            ]
        )
    }

    static func lotRows(_ organization: String) -> BulkTable<Lot> {
        BulkTable(
            name: "ledger_lots",
            columns: [
                .text("id") { $0.id.rawValue }, .text("organization_id") { _ in organization },
                .text("kind") { $0.kind.rawValue },
                .bigint("amount") { $0.amount.milli }, .bigint("expires_at") { $0.expiresAt?.milliseconds },
                .bigint("created_at") { $0.createdAt.milliseconds },
            ]
        )
    }

    static let portionRows = BulkTable<PortionRow>(
        name: "ledger_portions",
        columns: [
            .text("account_id") { $0.key.account.rawValue }, .text("lot_id") { $0.key.lot.rawValue },
            .integer("overdraft") { $0.overdraft ? 1 : 0 },
            .bigint("balance") { $0.portion.balance.milli }, .bigint("held") { $0.portion.held.milli },
        ]
    )

    static func newHoldRows(_ organization: String) -> BulkTable<Hold> {
        BulkTable(
            name: "ledger_holds",
            columns: [
                .text("id") { $0.id.rawValue }, .text("organization_id") { _ in organization },
                .text("account_id") { $0.account.rawValue },
                .bigint("amount") { $0.amount.milli }, .text("status") { $0.status.rawValue },
                .bigint("posted_amount") { $0.postedAmount.milli },
                .text("reference") { $0.reference }, .bigint("created_at") { $0.createdAt.milliseconds },
                .bigint("timeout_at") { $0.timeoutAt.milliseconds },
                .bigint("resolved_at") { $0.resolvedAt?.milliseconds },
                .text("reserve_transfer_id") { $0.reserveTransfer.rawValue },
                .text("resolve_transfer_id") { $0.resolveTransfer?.rawValue },
            ]
        )
    }

    /// The columns a resolution changes, keyed by id.
    static let resolvedHoldRows = BulkTable<Hold>(
        name: "ledger_holds",
        columns: [
            .text("id") { $0.id.rawValue }, .text("status") { $0.status.rawValue },
            .bigint("posted_amount") { $0.postedAmount.milli },
            .bigint("resolved_at") { $0.resolvedAt?.milliseconds },
            .text("resolve_transfer_id") { $0.resolveTransfer?.rawValue },
        ]
    )

    static let holdPortionRows = BulkTable<HoldPortionRow>(
        name: "ledger_hold_portions",
        columns: [
            .text("hold_id") { $0.hold.rawValue }, .integer("seq") { $0.seq },
            .text("lot_id") { $0.portion.lot.rawValue },
            .bigint("amount") { $0.portion.amount.milli },
        ]
    )

    static func entryRows(_ organization: String) -> BulkTable<EntryRow> {
        BulkTable(
            name: "ledger_entries",
            columns: [
                .text("organization_id") { _ in organization }, .text("transfer_id") { $0.entry.transfer.rawValue },
                .integer("seq") { $0.seq },
                .text("debit_account_id") { $0.entry.debit.rawValue }, .text("debit_kind") { $0.debitKind },
                .text("credit_account_id") { $0.entry.credit.rawValue }, .text("credit_kind") { $0.creditKind },
                .bigint("amount") { $0.entry.amount.milli },
                .bigint("debit_balance_after") { $0.entry.debitBalanceAfter.milli },
                .bigint("credit_balance_after") { $0.entry.creditBalanceAfter.milli },
                .text("reference") { $0.entry.reference },
                .text("hold_id") { $0.entry.hold?.rawValue }, .bigint("created_at") { $0.entry.at.milliseconds },
                .text("lot_id") { $0.lot?.rawValue },
            ]
        )
    }

    static let movementRows = BulkTable<MovementRow>(
        name: "ledger_lot_movements",
        columns: [
            .text("transfer_id") { $0.transfer.rawValue }, .integer("entry_seq") { $0.seq },
            .text("account_id") { $0.movement.account.rawValue },
            .text("lot_id") { $0.movement.lot.rawValue }, .bigint("delta") { $0.movement.delta.milli },
        ]
    )

    /// What a batch writes, in order: steps of statements, each statement's text written when
    /// it is run (while the one before it runs) or ahead of the transaction (`written()`).
    struct Statements: Sendable {
        struct Step: Sendable {
            var statements: [BulkRows.Statement]
            /// A crash test may stop the process here (`FaultInjection`).
            var faultPoint: Bool
        }

        var steps: [Step]

        /// The same statements with their texts written now.
        func written() -> Statements {
            Statements(
                steps: steps.map { step in
                    Step(
                        statements: step.statements.map { statement in
                            let text = statement()
                            return { text }
                        },
                        faultPoint: step.faultPoint
                    )
                }
            )
        }
    }

    /// Writes the changes and leaves `version` as the organisation's ledger version.
    static func write(_ changes: LedgerChanges, book: LedgerBook, version: Int64, on sql: any SQLDatabase) async throws
    {
        try await run(statements(changes, book: book, version: version, dialect: sql.storeDialect), on: sql)
    }

    /// Runs a batch's statements in order.
    static func run(_ statements: Statements, on sql: any SQLDatabase) async throws {
        let fault = FaultInjection.shared
        var flat: [BulkRows.Statement] = []
        var faultPointsAfter: [Int] = []
        var leadingFaultPoints = 0
        for step in statements.steps {
            flat += step.statements
            faultPointsAfter += Array(repeating: 0, count: step.statements.count)
            guard step.faultPoint else { continue }
            if faultPointsAfter.isEmpty {
                leadingFaultPoints += 1
            } else {
                faultPointsAfter[faultPointsAfter.count - 1] += 1
            }
        }
        for _ in 0..<leadingFaultPoints { fault.statementWritten() }
        if sql.storeDialect == .postgres && combines(statements) {
            try await sql.raw(combined(flat.map { $0() })).run()
            for points in faultPointsAfter { for _ in 0..<points { fault.statementWritten() } }
            return
        }
        try await BulkRows.run(sql, flat) { index in
            for _ in 0..<faultPointsAfter[index] { fault.statementWritten() }
        }
    }

    /// True when PostgreSQL gets the statements as one: more than one, at most
    /// `combinedStatementsMax`, and each table's rows in one statement (PostgreSQL runs the parts
    /// of one statement in no set order, and a table's rows keep their order, which entries'
    /// running balances rely on, only within one of them).
    static func combines(_ statements: Statements) -> Bool {
        statements.steps.reduce(0) { $0 + $1.statements.count } > 1 && fitsInOne(statements)
    }

    /// At most `combinedStatementsMax` statements, each table's rows in one of them.
    static func fitsInOne(_ statements: Statements) -> Bool {
        statements.steps.reduce(0) { $0 + $1.statements.count } <= combinedStatementsMax
            && statements.steps.allSatisfy { $0.statements.count <= 1 }
    }

    /// Most statements sent to PostgreSQL as one (a batch of a few thousand rows a table at
    /// most; a bigger one, a mass send's accept, keeps writing each statement while the one before
    /// runs).
    static let combinedStatementsMax = 24

    /// PostgreSQL: the statements as one, each a data-modifying `WITH` query of a statement that
    /// returns nothing, so a batch costs one round trip instead of one per table. PostgreSQL runs
    /// every one of them to completion; they touch different rows (a hold is either inserted or
    /// resolved, a portion and an account written once a batch), and the ledger's reference
    /// checks and foreign keys run at the end of the statement, when every row is there.
    /// `first`, when given, is a `WITH` query of its own (`name AS (…)`) put before the
    /// statements, and `answer` the statement's main query.
    static func combined(
        _ statements: [SQLQueryString],
        after first: SQLQueryString? = nil,
        answer: String = "SELECT 1 AS written"
    ) -> SQLQueryString {
        var query: SQLQueryString = "WITH "
        if let first { query += first }
        for (index, statement) in statements.enumerated() {
            if index > 0 || first != nil { query += ", " }
            query += "ledger_write_\(unsafeRaw: String(index)) AS ("
            query += statement
            query += ")"
        }
        query += " \(unsafeRaw: answer)"
        return query
    }

    /// What the statements of a checked batch require: the version check's row.
    static let versionFound = "EXISTS (SELECT 1 FROM ledger_checked)"

    /// PostgreSQL: a batch applied ahead (`SQLLedgerStore.plan`) written as one statement that
    /// commits on its own, so it costs one round trip instead of four (BEGIN, the lock, the
    /// statement, COMMIT). Its first part locks the organisation's row (an UPDATE's row lock, which
    /// conflicts with `Database.lockOrganization`'s FOR UPDATE) and moves the ledger's
    /// version from `expected` to `version` only if it was still `expected`; every other part
    /// (`statements(…, checked: true)`) reads that part's row before it writes anything, so
    /// nothing is written unless the check passed, and the lock is held before any row is. It
    /// answers `written` = 1, or 0 when the ledger had changed (then nothing was written). Nil
    /// when the statements do not fit in one (see `combines`).
    static func checked(_ statements: Statements, organization: String, expected: Int64, version: Int64)
        -> SQLQueryString?
    {
        guard fitsInOne(statements) else { return nil }
        return combined(
            statements.steps.flatMap(\.statements).map { $0() },
            after: """
                ledger_checked AS (UPDATE organizations SET ledger_version = \(bind: version)
                WHERE id = \(bind: organization) AND ledger_version = \(bind: expected) RETURNING id)
                """,
            answer: "SELECT COUNT(*) AS written FROM ledger_checked"
        )
    }

    /// The statements that write the changes, in foreign-key order, and leave `version` as the
    /// organisation's ledger version. `checked` (PostgreSQL): statements for `checked(_:…)`,
    /// each writing nothing unless the ledger's version was found as expected, and none that
    /// writes the version (the check does).
    static func statements(
        _ changes: LedgerChanges,
        book: LedgerBook,
        version: Int64,
        dialect: StoreDialect,
        checked: Bool = false
    )
        -> Statements
    {
        precondition(!checked || dialect == .postgres, "a checked batch is PostgreSQL's")
        let condition = checked ? versionFound : nil
        let org = book.organization.rawValue
        typealias Step = Statements.Step
        var steps: [Step] = []
        // Every table's rows go through here, so none is written without the condition.
        func insert<Row: Sendable>(
            into table: BulkTable<Row>,
            _ rows: some Collection<Row>,
            suffix: String = "",
            faultPoint: Bool = true
        ) {
            steps.append(
                Step(
                    statements: BulkRows.insertStatements(
                        into: table,
                        rows: rows,
                        suffix: suffix,
                        dialect: dialect,
                        condition: condition
                    ),
                    faultPoint: faultPoint
                )
            )
        }
        insert(into: transferRows(org), changes.transfers)
        insert(into: lotRows(org), changes.lots)

        let portions = changes.portions.sorted { ($0.key.account, $0.key.lot) < ($1.key.account, $1.key.lot) }.map {
            key,
            portion in
            PortionRow(key: key, portion: portion, overdraft: book.lots[key.lot]?.kind == .overdraft)
        }
        insert(
            into: portionRows,
            portions,
            suffix: "ON CONFLICT (account_id, lot_id) DO UPDATE SET balance = excluded.balance, held = excluded.held"
        )

        // New holds and resolved ones: one step (one fault point), two statements.
        let holds = changes.holds.values.sorted { $0.id < $1.id }
        insert(into: newHoldRows(org), holds.filter { changes.newHolds.contains($0.id) }, faultPoint: false)
        steps.append(
            Step(
                statements: BulkRows.updateStatements(
                    resolvedHoldRows,
                    rows: holds.filter { !changes.newHolds.contains($0.id) },
                    dialect: dialect,
                    condition: condition
                ),
                faultPoint: true
            )
        )

        var holdPortions: [HoldPortionRow] = []
        for hold in holds where changes.newHolds.contains(hold.id) {
            for (seq, portion) in hold.portions.enumerated() {
                holdPortions.append(HoldPortionRow(hold: hold.id, seq: seq, portion: portion))
            }
        }
        insert(into: holdPortionRows, holdPortions)

        var entries: [EntryRow] = []
        var movements: [MovementRow] = []
        entries.reserveCapacity(changes.entries.count)
        var sequence: [TransferID: Int] = [:]
        for entry in changes.entries {
            let seq = sequence[entry.transfer, default: 0]
            sequence[entry.transfer] = seq + 1
            let debit = book.accounts[entry.debit]?.kind
            let credit = book.accounts[entry.credit]?.kind
            let lot = namedLot(entry, debit: debit, credit: credit)
            entries.append(
                EntryRow(
                    entry: entry,
                    seq: seq,
                    debitKind: debit?.rawValue ?? "",
                    creditKind: credit?.rawValue ?? "",
                    lot: lot
                )
            )
            if lot != nil { continue }
            for movement in entry.lotMovements {
                movements.append(MovementRow(transfer: entry.transfer, seq: seq, movement: movement))
            }
        }
        insert(into: entryRows(org), entries)
        insert(into: movementRows, movements)

        let audits = changes.transfers.compactMap { request, outcome, _ in request.audit?.filled(with: outcome) }
        insert(into: AuditStore.rows, audits, faultPoint: false)

        for account in changes.accounts.values.sorted(by: { $0.id < $1.id }) {
            let balance = account.balance.milli
            let pending = account.pending.milli
            let id = account.id.rawValue
            steps.append(
                Step(
                    statements: [
                        {
                            var query: SQLQueryString = """
                                UPDATE ledger_accounts SET balance = \(bind: balance), pending = \(bind: pending)
                                WHERE id = \(bind: id) AND organization_id = \(bind: org)
                                """
                            if let condition { query += " AND \(unsafeRaw: condition)" }
                            return query
                        }
                    ],
                    faultPoint: true
                )
            )
        }
        if !checked {
            steps.append(Step(statements: [{ SQLLedgerStore.versionStatement(version, of: org) }], faultPoint: false))
        }
        return Statements(steps: steps)
    }
}
