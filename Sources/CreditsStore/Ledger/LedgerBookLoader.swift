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
        let (lotIDs, holdIDs) = named(by: requests)
        for found in try await loadLots(lotIDs, overdraft: true, organization: org, on: sql) where lots[found.id] == nil
        {
            lots[found.id] = found
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

    /// The lots and holds the requests name, by id.
    static func named(by requests: [LedgerRequest]) -> (lots: [String], holds: [String]) {
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
        return (lotIDs, holdIDs)
    }

    /// Lots of the organisation by id, and every overdraft lot if asked.
    static func loadLots(_ ids: [String], overdraft: Bool, organization: String, on sql: any SQLDatabase) async throws
        -> [Lot]
    {
        guard overdraft || !ids.isEmpty else { return [] }
        var query: SQLQueryString =
            "SELECT id AS lot_id, kind, amount, expires_at, created_at FROM ledger_lots WHERE organization_id = \(bind: organization) AND ("
        query += overdraft ? "kind = 'overdraft'" : "1 = 0"
        if !ids.isEmpty { query += " OR \(ids.sqlMembership("id", for: sql))" }
        query += ")"
        return try await sql.raw(query).all().map { row in try lot(row, id: LotID(try row.value("lot_id"))) }
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

    /// Holds by id with their portions, in one query.
    static func loadHolds(_ ids: [String], organization: String, on sql: any SQLDatabase) async throws -> [Hold] {
        guard !ids.isEmpty else { return [] }
        let rows = try await sql.all(
            ReusedStatement(
                """
                SELECT h.id, h.account_id, h.amount, h.status, h.posted_amount, h.reference, h.created_at, h.timeout_at, h.resolved_at,
                       h.reserve_transfer_id, h.resolve_transfer_id, p.lot_id, p.amount AS portion_amount
                FROM ledger_holds h JOIN ledger_hold_portions p ON p.hold_id = h.id
                WHERE h.organization_id = \(bind: organization) AND \(ids.sqlMembership("h.id", for: sql))
                ORDER BY h.id, p.seq
                """
            )
        )
        var holds: [Hold] = []
        for row in rows {
            let id = HoldID(try row.value("id"))
            let portion = HoldPortion(
                lot: LotID(try row.value("lot_id")),
                amount: Credits(milli: try row.value("portion_amount"))
            )
            if holds.last?.id == id {
                holds[holds.count - 1].portions.append(portion)
                continue
            }
            let statusText: String = try row.value("status")
            guard let status = HoldStatus(rawValue: statusText) else {
                throw StoreError.unreadableRow("hold status \(statusText)")
            }
            holds.append(
                Hold(
                    id: id,
                    account: AccountID(try row.value("account_id")),
                    amount: Credits(milli: try row.value("amount")),
                    status: status,
                    postedAmount: Credits(milli: try row.value("posted_amount")),
                    portions: [portion],
                    reference: try row.value("reference"),
                    createdAt: try row.date("created_at"),
                    timeoutAt: try row.date("timeout_at"),
                    resolvedAt: try row.optionalDate("resolved_at"),
                    reserveTransfer: TransferID(try row.value("reserve_transfer_id")),
                    resolveTransfer: try row.optional("resolve_transfer_id", as: String.self).map(TransferID.init)
                )
            )
        }
        return holds
    }

    /// Earlier results for these idempotency keys.
    static func loadResults(_ keys: [String], organization: String, on sql: any SQLDatabase) async throws
        -> [String: (fingerprint: String, outcome: LedgerOutcome)]
    {
        let valid = Array(Set(keys.filter { !$0.isEmpty && $0.count <= LedgerRequest.idempotencyKeyLengthMax }))
        guard !valid.isEmpty else { return [:] }
        var results: [String: (fingerprint: String, outcome: LedgerOutcome)] = [:]
        let columns =
            "id, idempotency_key, operation, fingerprint, amount, released, hold_id, hold_status, balance_after, available_after"
        // On PostgreSQL one index probe per key, whatever the statistics say: with `= ANY` the
        // planner, not yet knowing a fast-growing organisation's row count, filtered all of its
        // transfers instead (15 ms a batch at 60,000 transfers, growing with the ledger).
        let query: SQLQueryString =
            sql.storeDialect == .sqlite
            ? """
            SELECT \(unsafeRaw: columns) FROM ledger_transfers
            WHERE organization_id = \(bind: organization) AND \(valid.sqlMembership("idempotency_key", for: sql))
            """
            : """
            SELECT t.* FROM unnest(CAST(\(bind: valid) AS text[])) AS k (key) CROSS JOIN LATERAL (
                SELECT \(unsafeRaw: columns) FROM ledger_transfers
                WHERE organization_id = \(bind: organization) AND idempotency_key = k.key LIMIT 1) t
            """
        for row in try await sql.all(ReusedStatement(query)) {
            let outcome = LedgerOutcome(
                transfer: TransferID(try row.value("id")),
                operation: try row.value("operation"),
                amount: Credits(milli: try row.value("amount")),
                released: Credits(milli: try row.value("released")),
                hold: try row.optional("hold_id", as: String.self).map(HoldID.init),
                holdStatus: try row.optional("hold_status", as: String.self).flatMap(HoldStatus.init(rawValue:)),
                balanceAfter: try row.optional("balance_after", as: Int64.self).map(Credits.init(milli:)),
                availableAfter: try row.optional("available_after", as: Int64.self).map(Credits.init(milli:))
            )
            results[try row.value("idempotency_key")] = (try row.value("fingerprint"), outcome)
        }
        return results
    }
}
