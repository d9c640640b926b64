/// Why a portal sign-in was refused.
public enum SignInError: DomainError, Equatable {
    /// Too many wrong passwords lately: the next try must wait this many seconds.
    case throttled(retryAfter: Int)
    /// The email or the password is wrong (one error, whichever part was wrong).
    case failed

    public var kind: RefusalKind {
        switch self {
        case .throttled: .tooManyRequests
        case .failed: .unauthenticated
        }
    }

    public var code: String {
        switch self {
        case .throttled: "sign_in_throttled"
        case .failed: "sign_in_failed"
        }
    }

    public var message: String {
        switch self {
        case .throttled(let seconds):
            "Too many wrong passwords. Please wait \(SignInError.spoken(seconds)) before trying again, or ask an administrator to set a new password."
        case .failed: "The email or password is not right."
        }
    }

    /// Seconds to wait, when the refusal is for now only.
    public var retryAfter: Int? {
        if case .throttled(let seconds) = self { return seconds }
        return nil
    }

    /// "30 seconds", "1 minute", "15 minutes".
    static func spoken(_ seconds: Int) -> String {
        if seconds < 60 { return seconds == 1 ? "1 second" : "\(seconds) seconds" }
        let minutes = (seconds + 59) / 60
        return minutes == 1 ? "1 minute" : "\(minutes) minutes"
    }
}
