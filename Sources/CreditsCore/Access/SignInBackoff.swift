import Foundation

/// How wrong passwords slow further tries, counted separately for one email from one address,
/// for one address whatever the email, and for one email whatever the address. A few tries are
/// free; past them each try must wait, the wait doubling up to a ceiling. Nobody is locked out:
/// after the wait the right password works, and a try that was refused for waiting is not counted,
/// so an attacker's hammering does not lengthen anyone's wait.
///
/// Every try is counted before the password is checked (so tries made at the same moment cannot
/// all slip under the limit) and forgiven when it turns out right.
public struct SignInBackoff: Sendable, Equatable {
    /// Tries that may fail before the first wait.
    public var freeFailures: Int
    /// The first wait; each further failure doubles it.
    public var firstWait: TimeInterval
    /// The longest wait.
    public var longestWait: TimeInterval
    /// After this long without a try, earlier failures are forgotten.
    public var forgetAfter: TimeInterval

    public init(freeFailures: Int, firstWait: TimeInterval, longestWait: TimeInterval, forgetAfter: TimeInterval) {
        self.freeFailures = freeFailures
        self.firstWait = firstWait
        self.longestWait = longestWait
        self.forgetAfter = forgetAfter
    }

    /// One email from one address: a person mistyping gets five tries, then 30 s, 1 min, 2 min …
    /// at most 15 minutes between tries.
    public static let emailFromAddress = SignInBackoff(
        freeFailures: 5,
        firstWait: 30,
        longestWait: 15 * 60,
        forgetAfter: 24 * 3600
    )
    /// One address trying many emails (an office shares one address, so the allowance is wide).
    public static let address = SignInBackoff(
        freeFailures: 50,
        firstWait: 60,
        longestWait: 15 * 60,
        forgetAfter: 24 * 3600
    )
    /// One email tried from many addresses. A browser the person has signed in from before is
    /// not held by this one, so a spread-out attack cannot keep them out.
    public static let email = SignInBackoff(
        freeFailures: 20,
        firstWait: 60,
        longestWait: 15 * 60,
        forgetAfter: 24 * 3600
    )

    /// The failures counted for one key.
    public struct Tally: Sendable, Equatable {
        /// Failed (or not yet known) tries since the tally was last forgotten.
        public var failures: Int
        /// When the last counted try was made.
        public var lastTry: Date
        /// Before this, a try is refused.
        public var nextTry: Date

        public init(failures: Int, lastTry: Date, nextTry: Date) {
            self.failures = failures
            self.lastTry = lastTry
            self.nextTry = nextTry
        }
    }

    /// What a try meets.
    public enum Decision: Sendable, Equatable {
        /// The try may go ahead; the tally counts it.
        case counted(Tally)
        /// The try must wait until then; the tally is unchanged.
        case wait(until: Date)
    }

    /// Whether a try at `instant` may go ahead, given the key's tally (nil when it has none).
    public func attempt(_ tally: Tally?, at instant: Date) -> Decision {
        var current = tally ?? Tally(failures: 0, lastTry: instant, nextTry: instant)
        if instant.timeIntervalSince(current.lastTry) >= forgetAfter {
            current = Tally(failures: 0, lastTry: instant, nextTry: instant)
        }
        if instant < current.nextTry { return .wait(until: current.nextTry) }
        let failures = current.failures.addingReportingOverflow(1).partialValue
        return .counted(
            Tally(failures: failures, lastTry: instant, nextTry: instant.addingTimeInterval(wait(after: failures)))
        )
    }

    /// How long the next try waits after `failures` counted tries.
    public func wait(after failures: Int) -> TimeInterval {
        guard failures >= freeFailures else { return 0 }
        let doublings = min(failures - freeFailures, 30)
        return min(firstWait * Double(1 << doublings), longestWait)
    }

    /// The tally once a counted try turned out right: that try is forgiven, and so is the wait it set.
    public func forgive(_ tally: Tally) -> Tally {
        let failures = max(tally.failures - 1, 0)
        return Tally(
            failures: failures,
            lastTry: tally.lastTry,
            nextTry: tally.lastTry.addingTimeInterval(wait(after: failures))
        )
    }
}
