import CreditsCore

// The pure core's refusals are domain errors too: each says here what sort of refusal it is.

extension LedgerError: DomainError {
    public var kind: RefusalKind {
        switch self {
        case .insufficientCredits: .paymentRequired
        case .nonPositiveAmount, .wrongAccountKind, .sameAccount, .postExceedsHold, .invalidIdempotencyKey: .invalid
        case .unknownAccount, .unknownHold, .unknownLot: .notFound
        case .holdAlreadyResolved, .holdNotTimedOut, .lotNotExpiring, .duplicateID, .idempotencyConflict: .conflict
        }
    }
}

extension MessageError: DomainError {
    public var kind: RefusalKind { .invalid }

    /// The part over its limit, else the body.
    public var field: String? {
        switch self {
        case .partTooLong(let part, _): part.rawValue
        case .bodyEmpty, .bodyTooLong, .composedTooLong, .mergeFieldUnknown, .mergeFieldEmpty, .mergeFieldMalformed:
            "body"
        }
    }
}

extension SettingsError: DomainError {
    public var kind: RefusalKind { .invalid }
}

extension PhoneNumberError: DomainError {
    public var kind: RefusalKind { .invalid }
    public var field: String? { "phone" }
}
