import CreditsStore
import Foundation
import Metrics

/// The operator's gauges of waiting work: set by one query every few seconds (a job), never per
/// request or per text, and read by Prometheus from `/metrics`. The query counts pending rows
/// through partial indexes, so it takes longer as the backlog grows (SQLite: 28 ms at 100,000
/// pending holds, 213 ms at a million); the job rests 50 times as long as its last pass took when
/// that is longer than its interval, so it takes at most 2 % of a core, and never more than a
/// minute (passes over 1.2 s then take a little more), so the gauges are never more than a minute
/// behind (the alerts on them wait 15 minutes).
enum BacklogGauges {
    static let queuedMessages = "textcredits_queue_messages"
    static let queuedCalls = "textcredits_queue_calls"
    static let holdsPending = "textcredits_holds_pending"
    static let holdsPendingMillicredits = "textcredits_holds_pending_millicredits"
    static let holdsOverdue = "textcredits_holds_overdue"
    static let holdsOldestAge = "textcredits_holds_pending_oldest_age_seconds"

    /// The job that refreshes the gauges.
    static func job(store: BacklogStore, every interval: Duration, now: @escaping @Sendable () -> Date)
        -> BackgroundJob
    {
        BackgroundJob("backlog gauges", every: interval, restPerPassTime: 50) {
            let instant = now()
            record(try await store.backlog(now: instant), at: instant)
            return 0
        }
    }

    /// Sets every gauge from one reading.
    static func record(_ backlog: Backlog, at instant: Date) {
        Gauge(label: queuedMessages).record(backlog.queuedMessages)
        Gauge(label: queuedCalls).record(backlog.queuedCalls)
        Gauge(label: holdsPending).record(backlog.holdsPending)
        Gauge(label: holdsPendingMillicredits).record(backlog.holdsPendingMilli)
        Gauge(label: holdsOverdue).record(backlog.holdsOverdue)
        let age = backlog.oldestHoldAt.map { max(0, instant.timeIntervalSince($0)) } ?? 0
        Gauge(label: holdsOldestAge).record(age.rounded())
    }
}
