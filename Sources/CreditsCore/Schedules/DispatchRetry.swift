import Foundation

/// How dispatch treats a provider's temporary refusal: try again after an exponential backoff
/// (2, 4, 8 … seconds, at most five minutes), and give up after `attemptsMax` attempts.
public enum DispatchRetry {
    /// Attempts before a message fails for good.
    public static let attemptsMax = 8
    /// The longest wait between two attempts.
    public static let backoffMax: TimeInterval = 300

    /// What to do after attempt number `attempts` (1 for the first) failed temporarily.
    public static func decision(afterAttempt attempts: Int, at now: Date) -> Decision {
        guard attempts < attemptsMax else { return .giveUp }
        let exponent = Double(max(0, min(attempts, 16)))
        return .retry(at: now.addingTimeInterval(min(backoffMax, pow(2, exponent))))
    }

    /// Retry at an instant, or give up.
    public enum Decision: Sendable, Equatable {
        case retry(at: Date)
        case giveUp
    }
}
