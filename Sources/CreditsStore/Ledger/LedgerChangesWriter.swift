import CreditsCore
import Foundation
import SQLKit

/// Writes what a batch changed, inside the batch's transaction, in foreign-key order.
enum LedgerChangesWriter {
    static func write(_ changes: LedgerChanges, book: LedgerBook, on sql: any SQLDatabase) async throws {
        let org = book.organization.rawValue
        let fault = FaultInjection.shared

        try await BulkRows.insert(sql, table: "ledger_transfers",
            columns: [.text("id"), .text("organization_id"), .text("idempotency_key"), .text("operation"), .text("fingerprint"),
                      .bigint("amount"), .bigint("released"), .text("hold_id"), .text("hold_status"), .bigint("balance_after"),
                      .bigint("available_after"), .text("actor"), .text("memo"), .bigint("created_at")],
            rows: changes.transfers.map { request, outcome in
                [SQLCell(outcome.transfer.rawValue), SQLCell(org), SQLCell(request.idempotencyKey), SQLCell(outcome.operation),
                 SQLCell(request.operation.fingerprintDigest), SQLCell(outcome.amount.milli), SQLCell(outcome.released.milli),
                 SQLCell(outcome.hold?.rawValue), SQLCell(outcome.holdStatus?.rawValue), SQLCell(outcome.balanceAfter?.milli),
                 SQLCell(outcome.availableAfter?.milli), SQLCell(request.actor), SQLCell(request.memo), SQLCell(request.at.milliseconds)]
            })
        fault.statementWritten()

        try await BulkRows.insert(sql, table: "ledger_lots",
            columns: [.text("id"), .text("organization_id"), .text("kind"), .bigint("amount"), .bigint("expires_at"), .bigint("created_at")],
            rows: changes.lots.map { lot in
                [SQLCell(lot.id.rawValue), SQLCell(org), SQLCell(lot.kind.rawValue), SQLCell(lot.amount.milli),
                 SQLCell(lot.expiresAt?.milliseconds), SQLCell(lot.createdAt.milliseconds)]
            })
        fault.statementWritten()

        try await BulkRows.insert(sql, table: "ledger_portions",
            columns: [.text("account_id"), .text("lot_id"), .integer("overdraft"), .bigint("balance"), .bigint("held")],
            rows: changes.portions.sorted { ($0.key.account, $0.key.lot) < ($1.key.account, $1.key.lot) }.map { key, portion in
                [SQLCell(key.account.rawValue), SQLCell(key.lot.rawValue), SQLCell(book.lots[key.lot]?.kind == .overdraft ? 1 : 0),
                 SQLCell(portion.balance.milli), SQLCell(portion.held.milli)]
            },
            suffix: "ON CONFLICT (account_id, lot_id) DO UPDATE SET balance = excluded.balance, held = excluded.held")
        fault.statementWritten()

        let holds = changes.holds.values.sorted { $0.id < $1.id }
        try await BulkRows.insert(sql, table: "ledger_holds",
            columns: [.text("id"), .text("organization_id"), .text("account_id"), .bigint("amount"), .text("status"),
                      .bigint("posted_amount"), .text("reference"), .bigint("created_at"), .bigint("timeout_at"),
                      .bigint("resolved_at"), .text("reserve_transfer_id"), .text("resolve_transfer_id")],
            rows: holds.filter { changes.newHolds.contains($0.id) }.map { hold in
                [SQLCell(hold.id.rawValue), SQLCell(org), SQLCell(hold.account.rawValue), SQLCell(hold.amount.milli),
                 SQLCell(hold.status.rawValue), SQLCell(hold.postedAmount.milli), SQLCell(hold.reference),
                 SQLCell(hold.createdAt.milliseconds), SQLCell(hold.timeoutAt.milliseconds), SQLCell(hold.resolvedAt?.milliseconds),
                 SQLCell(hold.reserveTransfer.rawValue), SQLCell(hold.resolveTransfer?.rawValue)]
            })
        try await BulkRows.update(sql, table: "ledger_holds", key: .text("id"),
            columns: [.text("status"), .bigint("posted_amount"), .bigint("resolved_at"), .text("resolve_transfer_id")],
            rows: holds.filter { !changes.newHolds.contains($0.id) }.map { hold in
                [SQLCell(hold.id.rawValue), SQLCell(hold.status.rawValue), SQLCell(hold.postedAmount.milli),
                 SQLCell(hold.resolvedAt?.milliseconds), SQLCell(hold.resolveTransfer?.rawValue)]
            })
        fault.statementWritten()

        var holdPortions: [[SQLCell]] = []
        for hold in holds where changes.newHolds.contains(hold.id) {
            for (seq, portion) in hold.portions.enumerated() {
                holdPortions.append([SQLCell(hold.id.rawValue), SQLCell(seq), SQLCell(portion.lot.rawValue), SQLCell(portion.amount.milli)])
            }
        }
        try await BulkRows.insert(sql, table: "ledger_hold_portions",
                                  columns: [.text("hold_id"), .integer("seq"), .text("lot_id"), .bigint("amount")], rows: holdPortions)
        fault.statementWritten()

        var entries: [[SQLCell]] = []
        var movements: [[SQLCell]] = []
        var sequence: [TransferID: Int] = [:]
        for entry in changes.entries {
            let seq = sequence[entry.transfer, default: 0]
            sequence[entry.transfer] = seq + 1
            entries.append([SQLCell(org), SQLCell(entry.transfer.rawValue), SQLCell(seq), SQLCell(entry.debit.rawValue),
                            SQLCell(book.accounts[entry.debit]?.kind.rawValue ?? ""), SQLCell(entry.credit.rawValue),
                            SQLCell(book.accounts[entry.credit]?.kind.rawValue ?? ""), SQLCell(entry.amount.milli),
                            SQLCell(entry.debitBalanceAfter.milli), SQLCell(entry.creditBalanceAfter.milli), SQLCell(entry.reference),
                            SQLCell(entry.hold?.rawValue), SQLCell(entry.at.milliseconds)])
            for movement in entry.lotMovements {
                movements.append([SQLCell(entry.transfer.rawValue), SQLCell(seq), SQLCell(movement.account.rawValue),
                                  SQLCell(movement.lot.rawValue), SQLCell(movement.delta.milli)])
            }
        }
        try await BulkRows.insert(sql, table: "ledger_entries",
            columns: [.text("organization_id"), .text("transfer_id"), .integer("seq"), .text("debit_account_id"), .text("debit_kind"),
                      .text("credit_account_id"), .text("credit_kind"), .bigint("amount"), .bigint("debit_balance_after"),
                      .bigint("credit_balance_after"), .text("reference"), .text("hold_id"), .bigint("created_at")],
            rows: entries)
        fault.statementWritten()
        try await BulkRows.insert(sql, table: "ledger_lot_movements",
            columns: [.text("transfer_id"), .integer("entry_seq"), .text("account_id"), .text("lot_id"), .bigint("delta")],
            rows: movements)
        fault.statementWritten()

        try await AuditStore.insert(changes.transfers.compactMap { request, outcome in request.audit?.filled(with: outcome) }, on: sql)

        for account in changes.accounts.values.sorted(by: { $0.id < $1.id }) {
            try await sql.raw("""
                UPDATE ledger_accounts SET balance = \(bind: account.balance.milli), pending = \(bind: account.pending.milli)
                WHERE id = \(bind: account.id.rawValue) AND organization_id = \(bind: org)
                """).run()
            fault.statementWritten()
        }
    }
}
