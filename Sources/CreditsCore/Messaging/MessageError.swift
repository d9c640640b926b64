/// Why a message text was refused. Each case has a stable `code` that the API, the CLI and the
/// audit log use, and a sentence for people.
public enum MessageError: Error, Sendable, Equatable {
    /// The body has no characters.
    case bodyEmpty
    /// The body has more than `MessageBody.lengthMax` characters.
    case bodyTooLong(length: Int)
    /// The text that would be sent (after header, footer or smart encoding) is too long or empty.
    case composedTooLong(length: Int)
    /// A header, footer or signup message is over its limit.
    case partTooLong(part: MessagePart, length: Int)
    /// A merge field names no known value for this recipient.
    case mergeFieldUnknown(name: String)
    /// A merge field is known but its value is empty for this recipient.
    case mergeFieldEmpty(name: String)
    /// `{{` without a matching `}}`, or an empty name.
    case mergeFieldMalformed(position: Int)

    /// Stable machine-readable code.
    public var code: String {
        switch self {
        case .bodyEmpty: "body_empty"
        case .bodyTooLong: "body_too_long"
        case .composedTooLong: "message_too_long"
        case .partTooLong(let part, _): "\(part.rawValue)_too_long"
        case .mergeFieldUnknown: "merge_field_unknown"
        case .mergeFieldEmpty: "merge_field_empty"
        case .mergeFieldMalformed: "merge_field_malformed"
        }
    }

    /// A sentence for the sender.
    public var message: String {
        switch self {
        case .bodyEmpty:
            "The message is empty; write at least one character."
        case .bodyTooLong(let length):
            "The message has \(length) characters; the limit is \(MessageBody.lengthMax)."
        case .composedTooLong(let length):
            "With header and footer the message has \(length) characters; the limit is \(MessageBody.lengthMax)."
        case .partTooLong(let part, let length):
            "The \(part.label) has \(length) characters; the limit is \(part.lengthMax)."
        case .mergeFieldUnknown(let name):
            "The merge field {{\(name)}} is not known for this recipient."
        case .mergeFieldEmpty(let name):
            "The merge field {{\(name)}} is empty for this recipient."
        case .mergeFieldMalformed(let position):
            "The merge field starting at character \(position + 1) is not closed with }} or has no name."
        }
    }
}

/// The configurable parts around a message body, with their limits (seed: "Limited to 50 characters").
public enum MessagePart: String, Sendable, Codable, CaseIterable {
    case header
    case footer
    case signupMessage = "signup_message"

    /// Longest allowed text, in characters.
    public var lengthMax: Int {
        switch self {
        case .header, .footer: 50
        case .signupMessage: 160
        }
    }

    /// Name used in sentences.
    public var label: String {
        switch self {
        case .header: "message header"
        case .footer: "message footer"
        case .signupMessage: "signup message"
        }
    }
}
