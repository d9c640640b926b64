import Foundation

/// Sends from one number at most `perSecond` texts per second (token bucket per number).
public actor RateLimiter {
    let perSecond: Int
    private var next: [String: ContinuousClock.Instant] = [:]

    public init(perSecond: Int) { self.perSecond = max(1, perSecond) }

    /// Waits until `number` may send again.
    public func acquire(_ number: String) async {
        let interval = Duration.nanoseconds(1_000_000_000 / Int64(perSecond))
        let now = ContinuousClock.now
        let slot = max(next[number] ?? now, now)
        next[number] = slot + interval
        if next.count > 10_000 { next = next.filter { $0.value > now } }
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
