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
    /// What a person agrees to on the public opt-in page (`{{account}}` is the organisation's
    /// name); the exact words shown are kept with their consent.
    public var optInWording: String = OptInWording.standard
    /// Whether texting JOIN to the organisation's number starts a double opt-in (off by default).
    public var joinKeyword: Bool = false
    /// Whether the public opt-in page is open (off by default: a page anyone can post to texts
    /// strangers on the organisation's credits, so it is opened by choice).
    public var optInPage: Bool = false
    /// Where MMS does not go: send the text as SMS with a link to the picture instead of refusing
    /// (off by default).
    public var mmsAsLink: Bool = false
    /// Reprocessing from toll-free: a text from a local number that a carrier filters is sent
    /// once more from the organisation's toll-free number, at the reprocessing price (off by default).
    public var reprocessFromTollFree: Bool = false

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
        case optInWording = "opt_in_wording"
        case joinKeyword = "join_keyword"
        case optInPage = "opt_in_page"
        case mmsAsLink = "mms_as_link"
        case reprocessFromTollFree = "reprocess_from_toll_free"
    }

    /// Longest keyword reply or notice: two segments of GSM-7.
    public static let replyLengthMax = 320
    /// Longest consent wording of the opt-in page (a page, not a text, so longer than a reply).
    public static let optInWordingLengthMax = 600

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
            ("opt_in_wording", optInWording, SMSSettings.optInWordingLengthMax),
        ] {
            let length = MessageBody.length(of: text)
            if length > limit { throw .tooLong(field: field, length: length, limit: limit) }
            if text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) {
                throw .invalid(field: field, reason: "must not contain control characters")
            }
        }
        for (field, text) in [
            ("opt_out_reply", optOutReply), ("opt_in_reply", optInReply), ("help_reply", helpReply),
            ("opt_in_wording", optInWording),
        ] {
            if text.trimmingWhitespace().isEmpty {
                throw .invalid(
                    field: field,
                    reason: field == "opt_in_wording"
                        ? "cannot be empty: people must see what they agree to"
                        : "cannot be empty: carriers require an answer to this keyword"
                )
            }
            do {
                _ = try MergeFields.render(text, values: ["account": "x"])
            } catch {
                throw .invalid(field: field, reason: "can use only {{account}} as a merge field")
            }
        }
        // ASCII letters only, as the published pattern ([Ss][Tt][Oo][Pp]) checks it.
        let asciiLowered = String(
            decoding: optInWording.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 },
            as: UTF8.self
        )
        if !asciiLowered.contains("stop") {
            throw .invalid(field: "opt_in_wording", reason: "must tell people how to opt out (reply STOP)")
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
        case "opt_in_wording": "The opt-in page's consent wording"
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

extension SMSSettings {
    /// Reads stored settings; the opt-in page's settings, added later, take their defaults when a
    /// stored organisation has none yet.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        header = try container.decode(String.self, forKey: .header)
        footer = try container.decode(String.self, forKey: .footer)
        signupMessage = try container.decode(String.self, forKey: .signupMessage)
        sendingHours = try container.decode(SendingHours.self, forKey: .sendingHours)
        smartEncoding = try container.decode(Bool.self, forKey: .smartEncoding)
        replyMode = try container.decode(ReplyMode.self, forKey: .replyMode)
        optOutReply = try container.decode(String.self, forKey: .optOutReply)
        optInReply = try container.decode(String.self, forKey: .optInReply)
        helpReply = try container.decode(String.self, forKey: .helpReply)
        noReplyNotice = try container.decode(String.self, forKey: .noReplyNotice)
        optInWording = try container.decodeIfPresent(String.self, forKey: .optInWording) ?? OptInWording.standard
        joinKeyword = try container.decodeIfPresent(Bool.self, forKey: .joinKeyword) ?? false
        optInPage = try container.decodeIfPresent(Bool.self, forKey: .optInPage) ?? false
        mmsAsLink = try container.decodeIfPresent(Bool.self, forKey: .mmsAsLink) ?? false
        reprocessFromTollFree = try container.decodeIfPresent(Bool.self, forKey: .reprocessFromTollFree) ?? false
    }
}

/// The opt-in page's wording and the texts of the double opt-in, with `{{account}}` for the
/// organisation's name.
public enum OptInWording {
    /// The consent a person agrees to on the opt-in page, unless the organisation words its own:
    /// who texts, how often, that rates may apply, and how to stop or get help.
    public static let standard =
        "I agree to receive text messages from {{account}} at the number above: updates, reminders and news. Message frequency varies. Msg & data rates may apply. Reply STOP to opt out, HELP for help. Consent is not a condition of purchase."
    /// The text that asks a person who asked to be texted to confirm.
    public static let confirmation =
        "{{account}}: reply YES to confirm you want texts from us. Msg & data rates may apply. Reply STOP to opt out."

    /// A wording or text with the organisation's name filled in.
    public static func render(_ template: String, account: String) -> String {
        KeywordReplies.render(template, account: account)
    }
}
