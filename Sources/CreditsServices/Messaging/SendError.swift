import CreditsCore
import CreditsStore
import Foundation

/// Why a send, a reply or a cancel was refused; nothing was queued or reserved.
public enum SendError: DomainError, Equatable {
    /// No `to`, `contacts` or `groups`.
    case recipientsRequired
    /// More than `MessagingService.recipientsMax` recipients (named in `field`).
    case tooManyRecipients(field: String, maximum: Int)
    /// Every recipient was skipped, for these reasons.
    case noEligibleRecipients(skipped: [SkipReason: Int])
    /// `send_at` is not within the next year.
    case sendAtOutOfRange
    /// A manual send outside the sending hours, not overridden.
    case outsideSendingHours(hours: SendingHours, opens: Date)
    /// The organisation has no number to send from.
    case noSendingNumber
    /// The holds do not fit in the available credits.
    case insufficientCredits(available: Credits, requested: Credits)
    /// Every message of the campaign has been sent already.
    case nothingToCancel
    /// A reply to a number that opted out.
    case optedOut(phone: String)
    /// `from` is not one of the organisation's numbers in use.
    case unknownSendingNumber(String)
    /// The staff member is limited to other numbers (nil: none of theirs is in use).
    case numberNotAllowed(String?)
    /// A toll-free number whose verification is pending or was rejected.
    case tollFreeNotVerified(AssignedNumber)
    /// Media to send from a country where MMS does not go.
    case mmsNotAvailable(Country)
    /// `channel: mms` with no media to carry.
    case mmsWithoutMedia

    public var kind: RefusalKind {
        switch self {
        case .recipientsRequired, .tooManyRecipients, .noEligibleRecipients, .sendAtOutOfRange, .mmsWithoutMedia:
            .invalid
        case .outsideSendingHours, .noSendingNumber, .nothingToCancel, .optedOut, .mmsNotAvailable,
            .tollFreeNotVerified:
            .conflict
        case .unknownSendingNumber: .notFound
        case .numberNotAllowed: .forbidden
        case .insufficientCredits: .paymentRequired
        }
    }

    public var code: String {
        switch self {
        case .recipientsRequired: "recipients_required"
        case .tooManyRecipients: "too_many_recipients"
        case .noEligibleRecipients: "no_eligible_recipients"
        case .sendAtOutOfRange: "field_invalid"
        case .outsideSendingHours: "outside_sending_hours"
        case .noSendingNumber: "no_sending_number"
        case .insufficientCredits: "insufficient_credits"
        case .nothingToCancel: "nothing_to_cancel"
        case .optedOut: "opted_out"
        case .mmsNotAvailable: "mms_not_available"
        case .unknownSendingNumber: "number_not_found"
        case .numberNotAllowed: "number_not_allowed"
        case .tollFreeNotVerified: "toll_free_not_verified"
        case .mmsWithoutMedia: "media_required"
        }
    }

    public var message: String {
        switch self {
        case .recipientsRequired: "Name at least one recipient in to, contacts or groups."
        case .tooManyRecipients(_, let maximum): "A send can have at most \(maximum) recipients."
        case .noEligibleRecipients(let skipped):
            "No recipient can receive this message (\(SendError.reasons(skipped)))."
        case .sendAtOutOfRange: "send_at must be within the next year."
        case .outsideSendingHours(let hours, let opens):
            "It is outside your SMS sending hours (\(hours.start)–\(hours.end) \(hours.timeZone)); they open at \(ISO8601DateFormatter().string(from: opens)). Schedule the message, or send anyway with override_sending_hours if you have the Mass Text Availability Override permission."
        case .noSendingNumber: "Register a phone number under SMS settings before sending."
        case .insufficientCredits(let available, let requested):
            "Not enough credits: this send needs \(requested), \(available) are available (short by \(requested - available)). Nothing was sent."
        case .nothingToCancel: "Every message of this campaign has already been sent."
        case .optedOut(let phone): "\(phone) has opted out; no message can be sent to it."
        case .mmsNotAvailable(let country):
            "Picture messages (MMS) go to the United States and Canada only; they cannot be sent from \(country.name). Send the text without media, or turn on sending pictures as links in the SMS settings. Nothing was reserved."
        case .unknownSendingNumber(let number):
            "from: \(number) is not one of your numbers in use (GET /v1/numbers lists them)."
        case .numberNotAllowed(let number?):
            "from: you may not send from \(number); you are limited to other numbers of the organisation (GET /v1/numbers lists yours)."
        case .tollFreeNotVerified(let number) where number.verification == "rejected":
            "\(number.number) cannot send: \(number.verificationMessage ?? "its toll-free verification was rejected.") Ask for another toll-free number with corrected details, or send from another number."
        case .tollFreeNotVerified(let number):
            "\(number.number) is a toll-free number waiting for its verification; it can send once the carriers approve it (usually a few business days). Send from another number meanwhile."
        case .numberNotAllowed(nil):
            "None of the numbers you may send from is in use any more; ask an admin to give you one."
        case .mmsWithoutMedia:
            "A picture message (channel mms) needs media: attach it with media (POST /v1/media), or send the text as SMS."
        }
    }

    /// "2 opted out, 1 not opted in".
    static func reasons(_ skipped: [SkipReason: Int]) -> String {
        skipped.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.value) \($0.key.rawValue.replacingOccurrences(of: "_", with: " "))" }
            .joined(separator: ", ")
    }

    public var field: String? {
        switch self {
        case .recipientsRequired, .noEligibleRecipients: "to"
        case .tooManyRecipients(let field, _): field
        case .sendAtOutOfRange: "send_at"
        case .mmsNotAvailable: "media"
        case .unknownSendingNumber, .numberNotAllowed, .tollFreeNotVerified: "from"
        case .mmsWithoutMedia: "media"
        case .outsideSendingHours, .noSendingNumber, .insufficientCredits, .nothingToCancel, .optedOut: nil
        }
    }

    public var shortfall: Credits? {
        if case .insufficientCredits(let available, let requested) = self { return requested - available }
        return nil
    }
}

/// Why a conversation change was refused.
public enum ConversationError: DomainError, Equatable {
    /// A status other than open or closed.
    case statusInvalid

    public var kind: RefusalKind { .invalid }
    public var code: String { "field_invalid" }
    public var message: String { "status is open or closed." }
    public var field: String? { "status" }
}
