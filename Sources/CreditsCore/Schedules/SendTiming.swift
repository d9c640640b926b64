import Foundation

/// When a send may go out (DESIGN §3, sending hours): now, at its scheduled time, or when the
/// organisation's sending window opens. A manual send outside the window is refused unless the
/// sender overrides it; automated and scheduled sends wait for the window.
public enum SendTiming: Sendable, Equatable {
    /// It goes out at this instant.
    case notBefore(Date)
    /// It is outside the window; it goes now only if the sender may override sending hours.
    case needsOverride(now: Date)
    /// `send_at` is not within the next year.
    case sendAtOutOfRange
    /// It is outside the window and was neither scheduled, automated nor overridden.
    case outsideHours(opens: Date)

    /// How far back a `send_at` may lie (a clock a little behind ours).
    public static let sendAtPastMax: TimeInterval = 60
    /// How far ahead a `send_at` may lie.
    public static let sendAtFutureMax: TimeInterval = 366 * 86_400

    /// The timing of a send asked for at `now`.
    public static func decide(sendAt: Date?, automated: Bool, override: Bool, hours: SendingHours, now: Date)
        -> SendTiming
    {
        if let sendAt {
            guard sendAt >= now.addingTimeInterval(-sendAtPastMax), sendAt <= now.addingTimeInterval(sendAtFutureMax)
            else {
                return .sendAtOutOfRange
            }
            let start = max(sendAt, now)
            if case .closed(let opens) = hours.evaluate(at: start) { return .notBefore(opens) }
            return .notBefore(start)
        }
        guard case .closed(let opens) = hours.evaluate(at: now) else { return .notBefore(now) }
        if automated { return .notBefore(opens) }
        if override { return .needsOverride(now: now) }
        return .outsideHours(opens: opens)
    }
}
