import CreditsCore

/// What sort of refusal an error is, in the domain's words. The HTTP layer turns each kind into
/// a status in one exhaustive switch; the portal and the CLI show the
/// error's message.
public enum RefusalKind: Sendable, Equatable {
    /// The input breaks a rule (a field too long, a number out of range).
    case invalid
    /// Nothing with that id in this organisation.
    case notFound
    /// The person may not do this (a permission or rank is missing).
    case forbidden
    /// Who is asking is unknown (a wrong password).
    case unauthenticated
    /// The request clashes with the current state (a brand already submitted, the last owner).
    case conflict
    /// Not enough credits, or the payment was declined.
    case paymentRequired
    /// Too many attempts in a short time.
    case tooManyRequests
    /// The outcome is not known yet; asking again later will tell.
    case unavailable
    /// A provider or gateway failed to answer.
    case upstreamFailed
}

/// An operational failure a person can act on, thrown by the services: a stable code, a sentence,
/// and the field it is about when there is one. Each area has its own enum of cases
/// (`SendError`, `CreditError` …) whose `kind` says what sort of refusal it is.
public protocol DomainError: Error, Sendable {
    /// What sort of refusal this is.
    var kind: RefusalKind { get }
    /// A stable machine-readable code ("insufficient_credits").
    var code: String { get }
    /// A sentence for people.
    var message: String { get }
    /// The input field it is about, if any.
    var field: String? { get }
    /// How many credits were missing, when credits were short.
    var shortfall: Credits? { get }
}

extension DomainError {
    public var field: String? { nil }
    public var shortfall: Credits? { nil }
}

/// Something named by id that this organisation does not have.
public struct NotFoundError: DomainError, Equatable {
    /// What was looked for, as a sentence starts ("Campaign cmp_1", "The credit pool").
    public var what: String

    public init(_ what: String) { self.what = what }

    public var kind: RefusalKind { .notFound }
    public var code: String { "not_found" }
    public var message: String { "\(what) was not found." }
}

/// A permission the person lacks.
public struct AccessError: DomainError, Equatable {
    /// The permission the action needs.
    public var permission: Permission

    public init(_ permission: Permission) { self.permission = permission }

    public var kind: RefusalKind { .forbidden }
    public var code: String { "forbidden" }
    public var message: String {
        "This needs the “\(permission.label)” permission (\(permission.rawValue))."
    }
}

/// A field that breaks one of the rules every input shares (names, emails, passwords, amounts).
public enum InputError: DomainError, Equatable {
    case empty(field: String)
    case tooLong(field: String, limit: Int)
    case controlCharacters(field: String)
    case directionOverride(field: String)
    case notAnEmail(field: String, value: String)
    case passwordTooShort(field: String)
    case passwordTooLong(field: String)
    case negative(field: String)
    /// A number outside its range; the sentence says which.
    case outOfRange(field: String, message: String)

    public var kind: RefusalKind { .invalid }
    public var code: String { "field_invalid" }

    public var field: String? {
        switch self {
        case .empty(let field), .tooLong(let field, _), .controlCharacters(let field), .directionOverride(let field),
            .notAnEmail(let field, _),
            .passwordTooShort(let field), .passwordTooLong(let field), .negative(let field), .outOfRange(let field, _):
            field
        }
    }

    public var message: String {
        switch self {
        case .empty(let field): "\(field) cannot be empty."
        case .tooLong(let field, let limit): "\(field) has more than \(limit) characters."
        case .controlCharacters(let field): "\(field) must not contain control characters."
        case .directionOverride(let field): "\(field) must not contain characters that reverse the direction of text."
        case .notAnEmail(_, let value): "\(value) is not an email address."
        case .passwordTooShort: "Passwords need at least 10 characters."
        case .passwordTooLong: "Passwords can have at most 72 bytes."
        case .negative(let field): "\(field) cannot be negative."
        case .outOfRange(_, let message): message
        }
    }
}
