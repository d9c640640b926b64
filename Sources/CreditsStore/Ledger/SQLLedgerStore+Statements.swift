import CreditsCore
import Foundation
import SQLKit

/// One line of an account statement: an entry seen from one account, with its running balance.
public struct StatementLine: Sendable, Equatable, Codable {
    /// Position in the ledger (entries are ordered by it); also the pagination cursor.
    public var id: Int64
    public var at: Date
    public var transfer: TransferID
    /// The operation that made it (deposit, transfer, post, expire …).
    public var operation: String
    /// Credits in (positive) or out (negative) of this account.
    public var amount: Credits
    /// This account's balance after the entry.
    public var balanceAfter: Credits
    /// The other account and its kind.
    public var counterparty: AccountID
    public var counterpartyKind: AccountKind
    /// The message or call it paid for, if any.
    public var reference: String?
    /// Who asked for it.
    public var actor: String
    /// What it was, in a sentence.
    public var memo: String
    /// In a log of several accounts: whose account the line is about ("pool" or a staff id)
    /// and its name as people read it.
    public var account: String? = nil
    public var accountName: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, at, transfer, operation, amount, counterparty, reference, actor, memo, account
        case accountName = "account_name"
        case balanceAfter = "balance_after"
        case counterpartyKind = "counterparty_kind"
    }
}

extension SQLLedgerStore {
    /// Most statement lines returned by one call.
    public static let statementPageMax = 1000

    /// Entries touching any of `accounts` in `[since, until)`, oldest first, after the entry
    /// `afterID`: one line per account touched (a transfer between two of them is two lines),
    /// at most `limit` entries.
    public func combinedStatement(
        accounts: [AccountID],
        organization: OrganizationID,
        since: Date? = nil,
        until: Date? = nil,
        afterID: Int64? = nil,
        limit: Int = 200
    ) async throws -> [(account: AccountID, line: StatementLine)] {
        guard !accounts.isEmpty else { return [] }
        let limit = max(1, min(limit, SQLLedgerStore.statementPageMax))
        let wanted = Set(accounts.map(\.rawValue))
        return try await database.read { sql in
            let list = SQLList(accounts.map { SQLBind($0.rawValue) })
            var query: SQLQueryString = """
                SELECT e.id, e.created_at, e.transfer_id, t.operation, t.actor, t.memo, e.amount, e.reference,
                       e.debit_account_id, e.debit_kind, e.debit_balance_after, e.credit_account_id, e.credit_kind, e.credit_balance_after
                FROM ledger_entries e JOIN ledger_transfers t ON t.id = e.transfer_id
                WHERE e.organization_id = \(bind: organization.rawValue)
                  AND (e.debit_account_id IN (\(list)) OR e.credit_account_id IN (\(list)))
                """
            if let since { query += " AND e.created_at >= \(bind: since.milliseconds)" }
            if let until { query += " AND e.created_at < \(bind: until.milliseconds)" }
            if let afterID { query += " AND e.id > \(bind: afterID)" }
            query += " ORDER BY e.id LIMIT \(bind: limit)"
            var lines: [(AccountID, StatementLine)] = []
            for row in try await sql.raw(query).all() {
                let debit: String = try row.value("debit_account_id")
                let credit: String = try row.value("credit_account_id")
                let amount = Credits(milli: try row.value("amount"))
                for (side, isDebit) in [(debit, true), (credit, false)] where wanted.contains(side) {
                    lines.append(
                        (
                            AccountID(side),
                            StatementLine(
                                id: try row.value("id"),
                                at: try row.date("created_at"),
                                transfer: TransferID(try row.value("transfer_id")),
                                operation: try row.value("operation"),
                                amount: isDebit ? -amount : amount,
                                balanceAfter: Credits(
                                    milli: try row.value(isDebit ? "debit_balance_after" : "credit_balance_after")
                                ),
                                counterparty: AccountID(isDebit ? credit : debit),
                                counterpartyKind: AccountKind(
                                    rawValue: try row.value(isDebit ? "credit_kind" : "debit_kind")
                                ) ?? .adjustments,
                                reference: try row.optional("reference"),
                                actor: try row.value("actor"),
                                memo: try row.value("memo")
                            )
                        )
                    )
                }
            }
            return lines
        }
    }

    /// An account's entries in `[since, until)`, oldest first, after the cursor `afterID`.
    public func statement(
        account: AccountID,
        organization: OrganizationID,
        since: Date? = nil,
        until: Date? = nil,
        afterID: Int64? = nil,
        limit: Int = 200
    ) async throws -> [StatementLine] {
        let limit = max(1, min(limit, SQLLedgerStore.statementPageMax))
        return try await database.read { sql in
            var query: SQLQueryString = """
                SELECT e.id, e.created_at, e.transfer_id, t.operation, t.actor, t.memo, e.amount, e.reference,
                       e.debit_account_id, e.debit_kind, e.debit_balance_after, e.credit_account_id, e.credit_kind, e.credit_balance_after
                FROM ledger_entries e JOIN ledger_transfers t ON t.id = e.transfer_id
                WHERE e.organization_id = \(bind: organization.rawValue)
                  AND (e.debit_account_id = \(bind: account.rawValue) OR e.credit_account_id = \(bind: account.rawValue))
                """
            if let since { query += " AND e.created_at >= \(bind: since.milliseconds)" }
            if let until { query += " AND e.created_at < \(bind: until.milliseconds)" }
            if let afterID { query += " AND e.id > \(bind: afterID)" }
            query += " ORDER BY e.id LIMIT \(bind: limit)"
            return try await sql.raw(query).all().map { row in
                let isDebit = try row.value("debit_account_id", as: String.self) == account.rawValue
                let amount = Credits(milli: try row.value("amount"))
                let otherKind: String = try row.value(isDebit ? "credit_kind" : "debit_kind")
                return StatementLine(
                    id: try row.value("id"),
                    at: try row.date("created_at"),
                    transfer: TransferID(try row.value("transfer_id")),
                    operation: try row.value("operation"),
                    amount: isDebit ? -amount : amount,
                    balanceAfter: Credits(
                        milli: try row.value(isDebit ? "debit_balance_after" : "credit_balance_after")
                    ),
                    counterparty: AccountID(try row.value(isDebit ? "credit_account_id" : "debit_account_id")),
                    counterpartyKind: AccountKind(rawValue: otherKind) ?? .adjustments,
                    reference: try row.optional("reference"),
                    actor: try row.value("actor"),
                    memo: try row.value("memo")
                )
            }
        }
    }

    /// Lots with credits in an account: what is left of each, what is held, and when it expires.
    public func lots(of account: AccountID, organization: OrganizationID) async throws -> [(lot: Lot, portion: Portion)]
    {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT l.id AS lot_id, l.kind, l.amount, l.expires_at, l.created_at, p.balance, p.held
                FROM ledger_portions p JOIN ledger_lots l ON l.id = p.lot_id
                WHERE p.account_id = \(bind: account.rawValue) AND l.organization_id = \(bind: organization.rawValue)
                  AND (p.balance <> 0 OR p.held <> 0)
                """
            ).all().map { row in
                let lot = try LedgerBookLoader.lot(row, id: LotID(try row.value("lot_id")))
                return (
                    lot,
                    Portion(
                        balance: Credits(milli: try row.value("balance")),
                        held: Credits(milli: try row.value("held"))
                    )
                )
            }.sorted { Lot.spendsBefore($0.lot, $1.lot) }
        }
    }
}

extension SQLLedgerStore {
    /// Credits the organisation spent (posted to its usage account) in each period between
    /// consecutive boundaries, in one range scan: the dashboard's "credits used per day".
    public func usage(of organization: OrganizationID, boundaries: [Date]) async throws -> [(
        total: Credits, voice: Credits
    )] {
        precondition(
            boundaries.count >= 2 && boundaries.count <= 367
                && zip(boundaries, boundaries.dropFirst()).allSatisfy { $0 < $1 },
            "boundaries are increasing and at most a year of days"
        )
        return try await database.read { sql in
            var query: SQLQueryString = "SELECT "
            for (index, (start, end)) in zip(boundaries, boundaries.dropFirst()).enumerated() {
                if index > 0 { query += ", " }
                // Calls hold under their call id: what their holds posted is voice.
                query += """
                    CAST(COALESCE(SUM(CASE WHEN e.created_at >= \(bind: start.milliseconds) AND e.created_at < \(bind: end.milliseconds)
                    THEN e.amount ELSE 0 END), 0) AS BIGINT) AS p\(unsafeRaw: String(index)),
                    CAST(COALESCE(SUM(CASE WHEN e.created_at >= \(bind: start.milliseconds) AND e.created_at < \(bind: end.milliseconds)
                    AND substr(h.reference, 1, 5) = 'call_' THEN e.amount ELSE 0 END), 0) AS BIGINT) AS v\(unsafeRaw: String(index))
                    """
            }
            query += """
                 FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.credit_account_id
                 LEFT JOIN ledger_holds h ON h.id = e.hold_id
                WHERE a.organization_id = \(bind: organization.rawValue) AND a.kind = 'usage'
                  AND e.created_at >= \(bind: boundaries[0].milliseconds) AND e.created_at < \(bind: boundaries[boundaries.count - 1].milliseconds)
                """
            guard let row = try await sql.raw(query).first() else {
                return Array(repeating: (Credits.zero, Credits.zero), count: boundaries.count - 1)
            }
            return try (0..<(boundaries.count - 1)).map {
                (Credits(milli: try row.value("p\($0)")), Credits(milli: try row.value("v\($0)")))
            }
        }
    }
}
