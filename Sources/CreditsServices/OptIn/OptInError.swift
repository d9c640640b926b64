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
    /// The number is opted out: only a text from it (START, or YES) opts it back in.
    case optedOut(organization: String, number: String?)
    /// The organisation cannot send the confirmation now (no credits, no number).
    case cannotSendNow

    public var kind: RefusalKind {
        switch self {
        case .notAgreed: .invalid
        case .wordingChanged, .optedOut: .conflict
        case .tooManyFromAddress, .tooManyForNumber: .tooManyRequests
        case .cannotSendNow: .unavailable
        }
    }

    public var code: String {
        switch self {
        case .notAgreed: "agreement_missing"
        case .wordingChanged: "wording_changed"
        case .tooManyFromAddress, .tooManyForNumber: "too_many_requests"
        case .optedOut: "opted_out"
        case .cannotSendNow: "cannot_send_now"
        }
    }

    public var message: String {
        switch self {
        case .notAgreed: "Tick the box to say you agree to receive texts."
        case .wordingChanged: "The wording on this page has just changed. Please read it and tick the box again."
        case .tooManyFromAddress: "Too many sign-ups have come from this connection. Please try again in an hour."
        case .tooManyForNumber: "Too many sign-ups for this number today. Please try again tomorrow."
        case .optedOut(let organization, let number):
            "This number has opted out of texts from \(organization), so no text was sent. To get texts again, text START (or YES) to "
                + (number.map { "\($0)" } ?? "\(organization)’s number") + " from that phone."
        case .cannotSendNow: "Texts can’t be sent right now, so nothing was signed up. Please try again later."
        }
    }

    public var field: String? {
        switch self {
        case .notAgreed, .wordingChanged: "agree"
        case .tooManyForNumber, .optedOut: "phone"
        case .tooManyFromAddress, .cannotSendNow: nil
        }
    }
}
