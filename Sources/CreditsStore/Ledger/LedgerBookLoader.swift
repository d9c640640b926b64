import CreditsCore
import Foundation
import SQLKit

/// Reads the part of an organisation's ledger a batch needs, inside the batch's transaction.
enum LedgerBookLoader {
    /// Everything `LedgerBook` needs for these requests.
    static func load(
        _ organization: OrganizationID,
        for requests: [LedgerRequest],
        on sql: any SQLDatabase,
        makeTransferID: @escaping @Sendable () -> TransferID
    ) async throws -> LedgerBook {
        let org = organization.rawValue
        let accounts = try await sql.raw(
            """
            SELECT id, kind, staff_id, balance, pending, overdraft_limit FROM ledger_accounts WHERE organization_id = \(bind: org)
            """
        ).all().map(account)

        var lots: [LotID: Lot] = [:]
        var portions: [PortionKey: Portion] = [:]
        let portionRows = try await sql.raw(
            """
            SELECT p.account_id, p.lot_id, p.balance, p.held, l.kind, l.amount, l.expires_at, l.created_at
            FROM ledger_portions p JOIN ledger_lots l ON l.id = p.lot_id
            WHERE l.organization_id = \(bind: org) AND (p.balance <> 0 OR p.held <> 0)
            """
        ).all()
        for row in portionRows {
            let lotID = LotID(try row.value("lot_id"))
            lots[lotID] = try lot(row, id: lotID)
            portions[PortionKey(account: AccountID(try row.value("account_id")), lot: lotID)] =
                Portion(balance: Credits(milli: try row.value("balance")), held: Credits(milli: try row.value("held")))
        }

        // Lots named by the batch (to expire, or new ids that must not exist yet) and overdraft lots.
        var lotIDs: [String] = []
        var holdIDs: [String] = []
        for request in requests {
            switch request.operation {
            case .deposit(_, _, _, let lot, _, _), .expire(let lot), .forfeit(let lot): lotIDs.append(lot.rawValue)
            case .reserve(let hold, _, _, _, _), .post(let hold, _), .void(let hold), .timeOut(let hold, _):
                holdIDs.append(hold.rawValue)
            case .reserveAll(_, let holds): holdIDs += holds.map(\.hold.rawValue)
            default: break
            }
        }
        var lotQuery: SQLQueryString =
            "SELECT id AS lot_id, kind, amount, expires_at, created_at FROM ledger_lots WHERE organization_id = \(bind: org) AND (kind = 'overdraft'"
        if !lotIDs.isEmpty { lotQuery += " OR \(lotIDs.sqlMembership("id", for: sql))" }
        lotQuery += ")"
        for row in try await sql.raw(lotQuery).all() {
            let lotID = LotID(try row.value("lot_id"))
            if lots[lotID] == nil { lots[lotID] = try lot(row, id: lotID) }
        }

        var holds: [Hold] = []
        for chunk in holdIDs.inListChunks { holds += try await loadHolds(chunk, organization: org, on: sql) }
        var results: [String: (fingerprint: String, outcome: LedgerOutcome)] = [:]
        for chunk in requests.map(\.idempotencyKey).inListChunks {
            results.merge(try await loadResults(chunk, organization: org, on: sql)) { first, _ in first }
        }
        return LedgerBook(
            organization: organization,
            accounts: accounts,
            lots: Array(lots.values),
            portions: portions,
            holds: holds,
            results: results,
            makeTransferID: makeTransferID
        )
    }

    static func account(_ row: any SQLRow) throws -> LedgerAccount {
        let kindText: String = try row.value("kind")
        guard let kind = AccountKind(rawValue: kindText) else {
            throw StoreError.unreadableRow("account kind \(kindText)")
        }
        return LedgerAccount(
            id: AccountID(try row.value("id")),
            kind: kind,
            staffID: try row.optional("staff_id"),
            balance: Credits(milli: try row.value("balance")),
            pending: Credits(milli: try row.value("pending")),
            overdraftLimit: Credits(milli: try row.value("overdraft_limit"))
        )
    }

    static func lot(_ row: any SQLRow, id: LotID) throws -> Lot {
        let kindText: String = try row.value("kind")
        guard let kind = LotKind(rawValue: kindText) else { throw StoreError.unreadableRow("lot kind \(kindText)") }
        return Lot(
            id: id,
            kind: kind,
            amount: Credits(milli: try row.value("amount")),
            expiresAt: try row.optionalDate("expires_at"),
            createdAt: try row.date("created_at")
        )
    }

    /// One row of the holds query: a hold with one of its portions.
    struct HoldRow: Sendable {
        var id: String
        var account: String
        var amount: Int64
        var status: String
        var postedAmount: Int64
        var reference: String
        var createdAt: Int64
        var timeoutAt: Int64
        var resolvedAt: Int64?
        var reserveTransfer: String
        var resolveTransfer: String?
        var lot: String
        var portionAmount: Int64
    }

    /// Holds by id with their portions, in one query.
    static func loadHolds(_ ids: [String], organization: String, on sql: any SQLDatabase) async throws -> [Hold] {
        guard !ids.isEmpty else { return [] }
        let query: SQLQueryString = """
            SELECT h.id, h.account_id, h.amount, h.status, h.posted_amount, h.reference, h.created_at, h.timeout_at,
                   h.resolved_at, h.reserve_transfer_id, h.resolve_transfer_id, p.lot_id, p.amount AS portion_amount
            FROM ledger_holds h JOIN ledger_hold_portions p ON p.hold_id = h.id
            WHERE h.organization_id = \(bind: organization) AND \(ids.sqlMembership("h.id", for: sql))
            ORDER BY h.id, p.seq
            """
        var rows: [HoldRow] = []
        rows.reserveCapacity(ids.count)
        if let session = sql as? PostgresSession {
            let decoded = try await session.rows(query).decode(
                (
                    String, String, Int64, String, Int64, String, Int64, Int64, Int64?, String, String?, String, Int64
                ).self
            )
            for try await row in decoded {
                rows.append(
                    HoldRow(
                        id: row.0,
                        account: row.1,
                        amount: row.2,
                        status: row.3,
                        postedAmount: row.4,
                        reference: row.5,
                        createdAt: row.6,
                        timeoutAt: row.7,
                        resolvedAt: row.8,
                        reserveTransfer: row.9,
                        resolveTransfer: row.10,
                        lot: row.11,
                        portionAmount: row.12
                    )
                )
            }
        } else {
            for row in try await sql.raw(query).all() {
                rows.append(
                    HoldRow(
                        id: try row.value("id"),
                        account: try row.value("account_id"),
                        amount: try row.value("amount"),
                        status: try row.value("status"),
                        postedAmount: try row.value("posted_amount"),
                        reference: try row.value("reference"),
                        createdAt: try row.value("created_at"),
                        timeoutAt: try row.value("timeout_at"),
                        resolvedAt: try row.optional("resolved_at"),
                        reserveTransfer: try row.value("reserve_transfer_id"),
                        resolveTransfer: try row.optional("resolve_transfer_id"),
                        lot: try row.value("lot_id"),
                        portionAmount: try row.value("portion_amount")
                    )
                )
            }
        }
        return try holds(from: rows)
    }

    /// Holds from their rows (one per portion, a hold's rows together and in portion order).
    static func holds(from rows: [HoldRow]) throws -> [Hold] {
        var holds: [Hold] = []
        for row in rows {
            let id = HoldID(row.id)
            let portion = HoldPortion(lot: LotID(row.lot), amount: Credits(milli: row.portionAmount))
            if holds.last?.id == id {
                holds[holds.count - 1].portions.append(portion)
                continue
            }
            guard let status = HoldStatus(rawValue: row.status) else {
                throw StoreError.unreadableRow("hold status \(row.status)")
            }
            holds.append(
                Hold(
                    id: id,
                    account: AccountID(row.account),
                    amount: Credits(milli: row.amount),
                    status: status,
                    postedAmount: Credits(milli: row.postedAmount),
                    portions: [portion],
                    reference: row.reference,
                    createdAt: Date(milliseconds: row.createdAt),
                    timeoutAt: Date(milliseconds: row.timeoutAt),
                    resolvedAt: row.resolvedAt.map(Date.init(milliseconds:)),
                    reserveTransfer: TransferID(row.reserveTransfer),
                    resolveTransfer: row.resolveTransfer.map(TransferID.init)
                )
            )
        }
        return holds
    }

    /// One row of the earlier-results query.
    struct ResultRow: Sendable {
        var transfer: String
        var key: String
        var operation: String
        var fingerprint: String
        var amount: Int64
        var released: Int64
        var hold: String?
        var holdStatus: String?
        var balanceAfter: Int64?
        var availableAfter: Int64?
    }

    static let resultColumns =
        "id, idempotency_key, operation, fingerprint, amount, released, hold_id, hold_status, balance_after, available_after"

    /// Earlier results for these idempotency keys.
    static func loadResults(_ keys: [String], organization: String, on sql: any SQLDatabase) async throws
        -> [String: (fingerprint: String, outcome: LedgerOutcome)]
    {
        let valid = Array(Set(keys.filter { !$0.isEmpty && $0.count <= LedgerRequest.idempotencyKeyLengthMax }))
        guard !valid.isEmpty else { return [:] }
        // On PostgreSQL one index probe per key, whatever the statistics say: with `= ANY` the
        // planner, not yet knowing a fast-growing organisation's row count, filtered all of its
        // transfers instead (15 ms a batch at 60,000 transfers, growing with the ledger).
        var rows: [ResultRow] = []
        if let session = sql as? PostgresSession {
            let query: SQLQueryString = """
                SELECT t.* FROM unnest(CAST(\(bind: valid) AS text[])) AS k (key) CROSS JOIN LATERAL (
                    SELECT \(unsafeRaw: resultColumns) FROM ledger_transfers
                    WHERE organization_id = \(bind: organization) AND idempotency_key = k.key LIMIT 1) t
                """
            let decoded = try await session.rows(query).decode(
                (String, String, String, String, Int64, Int64, String?, String?, Int64?, Int64?).self
            )
            for try await row in decoded {
                rows.append(
                    ResultRow(
                        transfer: row.0,
                        key: row.1,
                        operation: row.2,
                        fingerprint: row.3,
                        amount: row.4,
                        released: row.5,
                        hold: row.6,
                        holdStatus: row.7,
                        balanceAfter: row.8,
                        availableAfter: row.9
                    )
                )
            }
        } else {
            let query: SQLQueryString = """
                SELECT \(unsafeRaw: resultColumns) FROM ledger_transfers
                WHERE organization_id = \(bind: organization) AND \(valid.sqlMembership("idempotency_key", for: sql))
                """
            for row in try await sql.raw(query).all() {
                rows.append(
                    ResultRow(
                        transfer: try row.value("id"),
                        key: try row.value("idempotency_key"),
                        operation: try row.value("operation"),
                        fingerprint: try row.value("fingerprint"),
                        amount: try row.value("amount"),
                        released: try row.value("released"),
                        hold: try row.optional("hold_id"),
                        holdStatus: try row.optional("hold_status"),
                        balanceAfter: try row.optional("balance_after"),
                        availableAfter: try row.optional("available_after")
                    )
                )
            }
        }
        var results: [String: (fingerprint: String, outcome: LedgerOutcome)] = [:]
        for row in rows {
            let outcome = LedgerOutcome(
                transfer: TransferID(row.transfer),
                operation: row.operation,
                amount: Credits(milli: row.amount),
                released: Credits(milli: row.released),
                hold: row.hold.map(HoldID.init),
                holdStatus: row.holdStatus.flatMap(HoldStatus.init(rawValue:)),
                balanceAfter: row.balanceAfter.map(Credits.init(milli:)),
                availableAfter: row.availableAfter.map(Credits.init(milli:))
            )
            results[row.key] = (row.fingerprint, outcome)
        }
        return results
    }
}
