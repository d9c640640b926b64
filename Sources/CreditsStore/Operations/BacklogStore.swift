import CreditsCore
import Foundation
import SQLKit

/// How much work waits: the queues and the pending holds, read for the operator's gauges.
public struct Backlog: Sendable, Equatable {
    /// Texts queued for the provider.
    public var queuedMessages: Int
    /// Calls queued to be placed.
    public var queuedCalls: Int
    /// Pending holds and the milli-credits they reserve.
    public var holdsPending: Int
    public var holdsPendingMilli: Int64
    /// Pending holds past their timeout (the hold-timeouts job resolves them within seconds).
    public var holdsOverdue: Int
    /// When the oldest pending hold was made (nil when none is pending).
    public var oldestHoldAt: Date?
}

/// Reads the backlog in one statement, each count from a partial index of pending rows.
public struct BacklogStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// The backlog now.
    public func backlog(now: Date) async throws -> Backlog {
        try await database.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT (SELECT COUNT(*) FROM messages WHERE status = 'queued') AS queued_messages,
                           (SELECT COUNT(*) FROM calls WHERE status = 'queued') AS queued_calls,
                           (SELECT COUNT(*) FROM ledger_holds WHERE status = 'pending') AS holds_pending,
                           (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_holds WHERE status = 'pending') AS holds_milli,
                           (SELECT COUNT(*) FROM ledger_holds WHERE status = 'pending'
                               AND timeout_at < \(bind: now.milliseconds)) AS holds_overdue,
                           (SELECT MIN(created_at) FROM ledger_holds WHERE status = 'pending') AS oldest_hold
                    """
                ).first()
            else { throw StoreError.unreadableRow("the backlog") }
            return Backlog(
                queuedMessages: try row.value("queued_messages"),
                queuedCalls: try row.value("queued_calls"),
                holdsPending: try row.value("holds_pending"),
                holdsPendingMilli: try row.value("holds_milli"),
                holdsOverdue: try row.value("holds_overdue"),
                oldestHoldAt: try row.optionalDate("oldest_hold")
            )
        }
    }
}
