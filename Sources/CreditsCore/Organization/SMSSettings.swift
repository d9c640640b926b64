/// Whether inbound texts are conversations or get an automatic notice.
public enum ReplyMode: String, Sendable, Codable, CaseIterable {
    /// Replies land in the Messenger Center.
    case twoWay = "two_way"
    /// The number only sends; inbound texts get the no-reply notice (keywords still work).
    case noReply = "no_reply"
}

/// An organisation's SMS settings (seed: SETTINGS>SETUP>GENERAL SETTINGS>SMS).
public struct SMSSettings: Sendable, Equatable, Codable {
    /// Prepended to every message (≤ 50 characters).
    public var header: String
    /// Appended to every message (≤ 50 characters).
    public var footer: String
    /// Sent alone when a number opts in (≤ 160 characters); empty for none.
    public var signupMessage: String
    /// When manual mass texts may go out and automated ones are released.
    public var sendingHours: SendingHours
    /// Replace look-alike characters before counting and sending.
    public var smartEncoding: Bool
    /// Two-way conversations or a no-reply number.
    public var replyMode: ReplyMode
    /// Answers to keywords; `{{account}}` is the organisation's name as people know it.
    public var optOutReply: String
    public var optInReply: String
    public var helpReply: String
    /// Sent to inbound texts on a no-reply number.
    public var noReplyNotice: String

    enum CodingKeys: String, CodingKey {
        case header, footer
        case signupMessage = "signup_message"
        case sendingHours = "sending_hours"
        case smartEncoding = "smart_encoding"
        case replyMode = "reply_mode"
        case optOutReply = "opt_out_reply"
        case optInReply = "opt_in_reply"
        case helpReply = "help_reply"
        case noReplyNotice = "no_reply_notice"
    }

    /// Longest keyword reply or notice: two segments of GSM-7.
    public static let replyLengthMax = 320

    /// The defaults of a new organisation: no header or footer, always open, the seed's replies.
    public static func defaults(timeZone: String) -> SMSSettings {
        SMSSettings(
            header: "",
            footer: "",
            signupMessage: "",
            sendingHours: .always(in: timeZone),
            smartEncoding: false,
            replyMode: .twoWay,
            optOutReply: KeywordReplies.optOut,
            optInReply: KeywordReplies.optIn,
            helpReply: KeywordReplies.help,
            noReplyNotice: KeywordReplies.noReply
        )
    }

    /// Checks every limit; the error names the field.
    public func validated() throws(SettingsError) -> SMSSettings {
        for (field, text, limit) in [
            ("header", header, MessagePart.header.lengthMax),
            ("footer", footer, MessagePart.footer.lengthMax),
            ("signup_message", signupMessage, MessagePart.signupMessage.lengthMax),
            ("opt_out_reply", optOutReply, SMSSettings.replyLengthMax),
            ("opt_in_reply", optInReply, SMSSettings.replyLengthMax),
            ("help_reply", helpReply, SMSSettings.replyLengthMax),
            ("no_reply_notice", noReplyNotice, SMSSettings.replyLengthMax),
        ] {
            let length = MessageBody.length(of: text)
            if length > limit { throw .tooLong(field: field, length: length, limit: limit) }
            if text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) {
                throw .invalid(field: field, reason: "must not contain control characters")
            }
        }
        for (field, text) in [("opt_out_reply", optOutReply), ("opt_in_reply", optInReply), ("help_reply", helpReply)] {
            if text.trimmingWhitespace().isEmpty {
                throw .invalid(field: field, reason: "cannot be empty: carriers require an answer to this keyword")
            }
            do {
                _ = try MergeFields.render(text, values: ["account": "x"])
            } catch {
                throw .invalid(field: field, reason: "can use only {{account}} as a merge field")
            }
        }
        do {
            _ = try sendingHours.validated()
        } catch {
            throw .sendingHours(error)
        }
        return self
    }
}

/// Why settings were refused; names the field (API: 422).
public enum SettingsError: Error, Sendable, Equatable {
    case tooLong(field: String, length: Int, limit: Int)
    case invalid(field: String, reason: String)
    /// The sending hours, in their own words ("Choose at least one day for sending.").
    case sendingHours(SendingHoursError)

    public var field: String? {
        switch self {
        case .tooLong(let field, _, _), .invalid(let field, _): field
        case .sendingHours: "sending_hours"
        }
    }

    public var code: String {
        switch self {
        case .tooLong: "field_too_long"
        case .invalid, .sendingHours: "field_invalid"
        }
    }

    public var message: String {
        switch self {
        case .tooLong(let field, let length, let limit):
            "\(SettingsError.label(field)) is \(length) characters; the limit is \(limit)."
        case .invalid(let field, let reason): "\(SettingsError.label(field)) \(reason)."
        case .sendingHours(let error): error.message
        }
    }

    /// A setting as its page names it ("Message header"), for sentences a person reads.
    public static func label(_ field: String) -> String {
        switch field {
        case "header": "Message header"
        case "footer": "Message footer"
        case "signup_message": "The signup message"
        case "opt_out_reply": "The reply to STOP"
        case "opt_in_reply": "The reply to START"
        case "help_reply": "The reply to HELP"
        case "no_reply_notice": "The no-reply notice"
        default: field.replacingOccurrences(of: "_", with: " ").capitalizedFirst
        }
    }
}

extension String {
    /// The text with its first letter in upper case.
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

/// The keyword replies (the seed's STOP / START / no-reply wording), with `{{account}}` for the
/// organisation's name.
public enum KeywordReplies {
    public static let optOut =
        "You have opted out of text messages from our system and will receive no further messages from {{account}}. To opt back in, reply START."
    public static let optIn =
        "You've subscribed to receive notifications from {{account}}. Text HELP for support instructions or STOP to unsubscribe. Msg & data rates may apply. Message frequency varies"
    /// The seed's HELP reply sent people to iClassPro's portal; ours names the organisation
    /// itself, which each organisation can extend with its phone or web address.
    public static let help =
        "This is {{account}}. For help, contact {{account}} directly. Msg & data rates may apply. To opt out, reply STOP."
    public static let noReply =
        "This number does not accept replies. Please contact {{account}} directly. Reply STOP to opt out or HELP for help."

    /// A reply with the account filled in.
    public static func render(_ template: String, account: String) -> String {
        (try? MergeFields.render(template, values: ["account": account])) ?? template
    }
}
