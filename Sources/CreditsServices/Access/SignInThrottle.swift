import Foundation
import Synchronization

/// Slows password guessing: after `failuresMax` wrong passwords for one email within `window`,
/// that email cannot sign in (even with the right password) until the window has passed.
/// Kept in memory per server; a restart forgets it, which costs an attacker a restart's worth of tries.
public final class SignInThrottle: Sendable {
    public static let failuresMax = 5
    public static let window: TimeInterval = 15 * 60
    private let failures = Mutex<[String: [Date]]>([:])

    public init() {}

    /// True when the email may try a password now.
    public func allows(_ email: String, at instant: Date) -> Bool {
        failures.withLock { entries in
            let recent = (entries[email] ?? []).filter { instant.timeIntervalSince($0) < SignInThrottle.window }
            entries[email] = recent.isEmpty ? nil : recent
            return recent.count < SignInThrottle.failuresMax
        }
    }

    /// Counts a wrong password.
    public func failed(_ email: String, at instant: Date) {
        failures.withLock { entries in
            if entries.count > 100_000 { entries.removeAll() }
            entries[email, default: []].append(instant)
        }
    }

    /// Forgets the failures of an email that signed in.
    public func succeeded(_ email: String) {
        _ = failures.withLock { $0.removeValue(forKey: email) }
    }
}
