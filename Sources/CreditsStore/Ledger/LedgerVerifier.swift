import CreditsCore
import Foundation
import SQLKit

/// One broken ledger invariant, named so an operator can find the rows.
public struct LedgerViolation: Sendable, Equatable, CustomStringConvertible {
    /// Stable name of the invariant.
    public var invariant: String
    /// What is wrong, with ids and amounts.
    public var detail: String

    public var description: String { "\(invariant): \(detail)" }
}

/// `textcredits ledger verify`: recomputes every balance from the append-only entries and
/// checks the invariants of DESIGN §2. Read-only; each check is one aggregate query (grouped
/// scans, no per-row lookups), so it needs no index beyond those the ledger itself uses.
public struct LedgerVerifier: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Every violation found (empty when the ledger is sound).
    public func verify() async throws -> [LedgerViolation] {
        try await database.read { sql in
            var violations: [LedgerViolation] = []
            for check in LedgerVerifier.checks {
                violations += try await sql.raw(SQLQueryString(check.query)).all().map { row in
                    LedgerViolation(invariant: check.invariant, detail: try check.describe(Row(row: row)))
                }
            }
            return violations
        }
    }

    /// A query returning one row per violation, and how to describe that row.
    struct Check: Sendable {
        let invariant: String
        let query: String
        let describe: @Sendable (Row) throws -> String
    }

    /// Reads violation rows.
    struct Row {
        let row: any SQLRow
        func text(_ column: String) throws -> String { try row.value(column) }
        func credits(_ column: String) throws -> Credits {
            Credits(milli: try row.optional(column, as: Int64.self) ?? 0)
        }
        func number(_ column: String) throws -> Int64 { try row.value(column) }
    }

    /// `CAST(COALESCE(x, 0) AS BIGINT)`: sums are NUMERIC on PostgreSQL and may be NULL.
    static func total(_ expression: String) -> String { "CAST(COALESCE(\(expression), 0) AS BIGINT)" }

    /// Every lot movement: the rows of `ledger_lot_movements`, and the one an entry that names a
    /// lot stands for (version 34, `LedgerChangesWriter.namedLot`): its whole amount out of that
    /// lot of its debit account, or into it of its credit account, whichever holds credits.
    static let movements = """
        SELECT transfer_id, entry_seq, account_id, lot_id, delta FROM ledger_lot_movements
        UNION ALL
        SELECT transfer_id, seq, CASE WHEN \(EntryLotSchema.debitHoldsCredits) THEN debit_account_id ELSE credit_account_id END,
               lot_id, CASE WHEN \(EntryLotSchema.debitHoldsCredits) THEN -amount ELSE amount END
        FROM ledger_entries WHERE lot_id IS NOT NULL
        """

    static let checks: [Check] = [
        Check(
            invariant: "balance_matches_entries",
            query: """
                SELECT a.id, a.kind, a.organization_id, a.balance, \(total("c.total")) - \(total("d.total")) AS computed
                FROM ledger_accounts a
                LEFT JOIN (SELECT credit_account_id AS id, SUM(amount) AS total FROM ledger_entries GROUP BY credit_account_id) c ON c.id = a.id
                LEFT JOIN (SELECT debit_account_id AS id, SUM(amount) AS total FROM ledger_entries GROUP BY debit_account_id) d ON d.id = a.id
                WHERE a.balance <> \(total("c.total")) - \(total("d.total"))
                """
        ) { row in
            "account \(try row.text("id")) (\(try row.text("kind")) of organisation \(try row.text("organization_id"))): entries sum to \(try row.credits("computed")) but the balance is \(try row.credits("balance"))"
        },
        Check(
            invariant: "zero_sum",
            query: """
                SELECT organization_id, \(total("SUM(balance)")) AS total FROM ledger_accounts GROUP BY organization_id HAVING SUM(balance) <> 0
                """
        ) { row in
            "organisation \(try row.text("organization_id")): account balances sum to \(try row.credits("total")), not 0"
        },
        Check(
            invariant: "no_negative_balance",
            query: """
                SELECT id, kind, balance, pending, overdraft_limit FROM ledger_accounts
                WHERE (kind IN ('pool', 'wallet') AND (balance < -overdraft_limit OR balance - pending < -overdraft_limit OR pending < 0))
                   OR (kind IN ('purchases', 'plan_grants') AND balance > 0) OR (kind IN ('usage', 'expired') AND balance < 0)
                """
        ) { row in
            "account \(try row.text("id")) (\(try row.text("kind"))): balance \(try row.credits("balance")), pending \(try row.credits("pending")), overdraft line \(try row.credits("overdraft_limit"))"
        },
        Check(
            invariant: "lots_sum_to_balance",
            query: """
                SELECT a.id, a.balance, a.pending, \(total("p.balance")) AS lots, \(total("p.held")) AS held
                FROM ledger_accounts a
                LEFT JOIN (SELECT account_id, SUM(balance) AS balance, SUM(held) AS held FROM ledger_portions GROUP BY account_id) p ON p.account_id = a.id
                WHERE a.kind IN ('pool', 'wallet') AND (a.balance <> \(total("p.balance")) OR a.pending <> \(total("p.held")))
                """
        ) { row in
            "account \(try row.text("id")): lots sum to \(try row.credits("lots")) (held \(try row.credits("held"))) but the balance is \(try row.credits("balance")) (pending \(try row.credits("pending")))"
        },
        Check(
            invariant: "portion_matches_movements",
            query: """
                SELECT COALESCE(p.account_id, m.account_id) AS account_id, COALESCE(p.lot_id, m.lot_id) AS lot_id,
                       \(total("p.balance")) AS stored, \(total("m.total")) AS computed
                FROM ledger_portions p
                FULL OUTER JOIN (SELECT account_id, lot_id, SUM(delta) AS total FROM (\(movements)) moved GROUP BY account_id, lot_id) m
                  ON m.account_id = p.account_id AND m.lot_id = p.lot_id
                WHERE \(total("p.balance")) <> \(total("m.total"))
                """
        ) { row in
            "lot \(try row.text("lot_id")) in account \(try row.text("account_id")): movements sum to \(try row.credits("computed")) but the portion is \(try row.credits("stored"))"
        },
        Check(
            invariant: "held_matches_holds",
            query: """
                SELECT COALESCE(p.account_id, h.account_id) AS account_id, COALESCE(p.lot_id, h.lot_id) AS lot_id,
                       \(total("p.held")) AS stored, \(total("h.total")) AS computed
                FROM ledger_portions p
                FULL OUTER JOIN (SELECT holds.account_id, hp.lot_id, SUM(hp.amount) AS total
                                 FROM ledger_hold_portions hp JOIN ledger_holds holds ON holds.id = hp.hold_id
                                 WHERE holds.status = 'pending' GROUP BY holds.account_id, hp.lot_id) h
                  ON h.account_id = p.account_id AND h.lot_id = p.lot_id
                WHERE \(total("p.held")) <> \(total("h.total"))
                """
        ) { row in
            "lot \(try row.text("lot_id")) in account \(try row.text("account_id")): pending holds reserve \(try row.credits("computed")) but \(try row.credits("stored")) is held"
        },
        Check(
            invariant: "pending_matches_holds",
            query: """
                SELECT a.id, a.pending, \(total("h.total")) AS computed
                FROM ledger_accounts a
                LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_holds WHERE status = 'pending' GROUP BY account_id) h ON h.account_id = a.id
                WHERE a.pending <> \(total("h.total"))
                """
        ) { row in
            "account \(try row.text("id")): pending holds sum to \(try row.credits("computed")) but pending is \(try row.credits("pending"))"
        },
        Check(
            invariant: "hold_portions_sum",
            query: """
                SELECT h.id, h.amount, \(total("p.total")) AS portions
                FROM ledger_holds h LEFT JOIN (SELECT hold_id, SUM(amount) AS total FROM ledger_hold_portions GROUP BY hold_id) p ON p.hold_id = h.id
                WHERE h.amount <> \(total("p.total"))
                """
        ) { row in
            "hold \(try row.text("id")): portions sum to \(try row.credits("portions")) but the hold is \(try row.credits("amount"))"
        },
        Check(
            invariant: "hold_resolves_once",
            query: """
                SELECT h.id, h.status, h.posted_amount, \(total("e.charged")) AS charged, \(total("e.charges")) AS charges,
                       \(total("e.resolutions")) AS resolutions
                FROM ledger_holds h
                LEFT JOIN (SELECT hold_id, SUM(CASE WHEN credit_kind = 'usage' THEN amount ELSE 0 END) AS charged,
                                  SUM(CASE WHEN credit_kind = 'usage' THEN 1 ELSE 0 END) AS charges,
                                  COUNT(DISTINCT transfer_id) AS resolutions
                           FROM ledger_entries WHERE hold_id IS NOT NULL GROUP BY hold_id) e ON e.hold_id = h.id
                WHERE \(total("e.charges")) > 1 OR \(total("e.resolutions")) > 1
                   OR (h.status = 'pending' AND \(total("e.resolutions")) > 0)
                   OR h.posted_amount <> \(total("e.charged"))
                """
        ) { row in
            "hold \(try row.text("id")) (\(try row.text("status"))): posted \(try row.credits("posted_amount")), its entries charge \(try row.credits("charged")) in \(try row.number("charges")) charge(s) over \(try row.number("resolutions")) settlement(s)"
        },
        Check(
            invariant: "usage_has_reference",
            query: """
                SELECT e.id, e.transfer_id FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.credit_account_id
                WHERE (a.kind = 'usage' OR e.credit_kind = 'usage') AND (e.reference IS NULL OR e.reference = '')
                """
        ) { row in
            "entry \(try row.number("id")) of transfer \(try row.text("transfer_id")) charges usage without a message or call"
        },
        Check(
            invariant: "entry_kinds_match_accounts",
            query: """
                SELECT e.id FROM ledger_entries e
                JOIN ledger_accounts d ON d.id = e.debit_account_id JOIN ledger_accounts c ON c.id = e.credit_account_id
                WHERE d.kind <> e.debit_kind OR c.kind <> e.credit_kind OR d.organization_id <> e.organization_id
                   OR c.organization_id <> e.organization_id
                """
        ) { row in
            "entry \(try row.number("id")) names account kinds or an organisation that its accounts do not have"
        },
        Check(
            invariant: "running_balance",
            query: """
                WITH lines AS (
                    SELECT id, debit_account_id AS account_id, -amount AS delta, debit_balance_after AS after FROM ledger_entries
                    UNION ALL
                    SELECT id, credit_account_id AS account_id, amount AS delta, credit_balance_after AS after FROM ledger_entries
                ), running AS (
                    SELECT id, account_id, after,
                           CAST(SUM(delta) OVER (PARTITION BY account_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS BIGINT) AS computed
                    FROM lines
                )
                SELECT id, account_id, after, computed FROM running WHERE after <> computed ORDER BY id LIMIT 100
                """
        ) { row in
            "entry \(try row.number("id")) on account \(try row.text("account_id")): stored running balance \(try row.credits("after")) but entries give \(try row.credits("computed"))"
        },
        Check(
            invariant: "movements_match_entry",
            query: """
                WITH moved AS (SELECT transfer_id, entry_seq, account_id, SUM(delta) AS total FROM (\(movements)) m
                               GROUP BY transfer_id, entry_seq, account_id)
                SELECT e.id, e.amount, \(total("dm.total")) AS debit_moved, \(total("cm.total")) AS credit_moved
                FROM ledger_entries e
                LEFT JOIN moved dm
                  ON dm.transfer_id = e.transfer_id AND dm.entry_seq = e.seq AND dm.account_id = e.debit_account_id
                LEFT JOIN moved cm
                  ON cm.transfer_id = e.transfer_id AND cm.entry_seq = e.seq AND cm.account_id = e.credit_account_id
                WHERE (e.debit_kind IN (\(EntryLotSchema.holdingKinds)) AND \(total("dm.total")) <> -e.amount)
                   OR (e.credit_kind IN (\(EntryLotSchema.holdingKinds)) AND \(total("cm.total")) <> e.amount)
                """
        ) { row in
            "entry \(try row.number("id")) moves \(try row.credits("amount")) but its lot movements move \(try row.credits("debit_moved")) / \(try row.credits("credit_moved"))"
        },
        Check(
            invariant: "named_lot_without_rows",
            query: """
                SELECT DISTINCT e.id, e.lot_id FROM ledger_entries e
                JOIN ledger_lot_movements m ON m.transfer_id = e.transfer_id AND m.entry_seq = e.seq
                WHERE e.lot_id IS NOT NULL
                """
        ) { row in
            "entry \(try row.number("id")) names lot \(try row.text("lot_id")) and also has lot movements of its own"
        },
        Check(
            invariant: "final_message_settled",
            query: """
                SELECT m.id, m.status, h.id AS hold_id FROM messages m JOIN ledger_holds h ON h.id = m.hold_id
                WHERE h.status = 'pending' AND m.status IN ('delivered', 'undelivered', 'failed', 'canceled')
                ORDER BY m.id LIMIT 100
                """
        ) { row in
            "message \(try row.text("id")) is \(try row.text("status")) but its hold \(try row.text("hold_id")) is still pending"
        },
    ]
}
