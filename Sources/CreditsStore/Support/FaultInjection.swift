import Foundation

/// A crash switch for tests that prove nothing is half-applied: with
/// `TEXTCREDITS_FAULT_KILL_AFTER_STATEMENTS=N` in the environment, the process kills itself with
/// SIGKILL after writing its N-th statement inside a ledger transaction (on PostgreSQL a batch
/// applied ahead is one statement that commits on its own: its points come before it is sent, so
/// a kill there leaves it unwritten too). Unset (always, outside those tests), it does nothing.
final class FaultInjection: Sendable {
    static let shared = FaultInjection(
        limit: ProcessInfo.processInfo.environment["TEXTCREDITS_FAULT_KILL_AFTER_STATEMENTS"].flatMap(Int.init)
    )

    private let limit: Int?
    private let counter = StatementCounter()

    init(limit: Int?) { self.limit = limit }

    /// Counts one statement written in a transaction; kills the process at the limit.
    func statementWritten() {
        guard let limit else { return }
        if counter.increment() >= limit { kill(getpid(), SIGKILL) }
    }
}

/// A locked counter.
final class StatementCounter: @unchecked Sendable {
    // Safe: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = 0

    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
