import CreditsCore

/// Why the public opt-in page did not send a text. Each is a sentence for the person on the page;
/// nothing was recorded.
public enum OptInError: DomainError, Equatable {
    /// The agreement box was not ticked.
    case notAgreed
    /// The wording changed after the page was shown: what they agreed to is not what is kept.
    case wordingChanged
    /// Too many sign-ups from one client address.
    case tooManyFromAddress
    /// Too many sign-ups for one number.
    case tooManyForNumber
    /// Too many sign-ups on the organisation's page today, from everyone.
    case tooManyForOrganization
    /// The organisation cannot send the confirmation now (no credits, no number).
    case cannotSendNow

    public var kind: RefusalKind {
        switch self {
        case .notAgreed: .invalid
        case .wordingChanged: .conflict
        case .tooManyFromAddress, .tooManyForNumber, .tooManyForOrganization: .tooManyRequests
        case .cannotSendNow: .unavailable
        }
    }

    public var code: String {
        switch self {
        case .notAgreed: "agreement_missing"
        case .wordingChanged: "wording_changed"
        case .tooManyFromAddress, .tooManyForNumber, .tooManyForOrganization: "too_many_requests"
        case .cannotSendNow: "cannot_send_now"
        }
    }

    public var message: String {
        switch self {
        case .notAgreed: "Tick the box to say you agree to receive texts."
        case .wordingChanged: "The wording on this page has just changed. Please read it and tick the box again."
        case .tooManyFromAddress: "Too many sign-ups have come from this connection. Please try again in an hour."
        case .tooManyForNumber: "Too many sign-ups for this number today. Please try again tomorrow."
        case .tooManyForOrganization:
            "This page has taken as many sign-ups as it can today. Please try again tomorrow, or text JOIN if the organisation offers it."
        case .cannotSendNow: "Texts can’t be sent right now, so nothing was signed up. Please try again later."
        }
    }

    public var field: String? {
        switch self {
        case .notAgreed, .wordingChanged: "agree"
        case .tooManyForNumber: "phone"
        case .tooManyFromAddress, .tooManyForOrganization, .cannotSendNow: nil
        }
    }
}
