/// Why a portal sign-in was refused.
public enum SignInError: DomainError, Equatable {
    /// Too many wrong passwords for this email lately.
    case throttled
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
        case .throttled:
            "Too many wrong passwords for this email. Wait 15 minutes, or ask an administrator to set a new password."
        case .failed: "The email or password is not right."
        }
    }
}
