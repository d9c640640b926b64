/// A half-open range of Unicode-scalar offsets inside one part of a message.
public struct TextRange: Sendable, Equatable, Codable {
    /// Offset of the first scalar.
    public var start: Int
    /// Offset just past the last scalar.
    public var end: Int

    /// A range from `start` up to, not including, `end`.
    public init(start: Int, end: Int) {
        precondition(start <= end, "a text range cannot end before it starts")
        self.start = start
        self.end = end
    }
}

/// The stable codes of compliance warnings. Warnings never block a send; they explain.
public enum LintCode: String, Sendable, Codable, CaseIterable {
    case headerMissingBusinessName = "header_missing_business_name"
    case footerMissingOptOut = "footer_missing_opt_out"
    case urlShortener = "url_shortener"
    case aggressiveLanguage = "aggressive_language"
    case excessiveCapitals = "excessive_capitals"
    case emoji = "emoji"
    case nonGSMCharacter = "non_gsm_character"
    case hiddenFormatting = "hidden_formatting"
    case longMessage = "long_message"
}

/// One compliance warning: a code, a sentence, and where in which part it applies.
public struct LintWarning: Sendable, Equatable, Codable {
    /// Stable machine-readable code.
    public var code: LintCode
    /// A sentence for the sender.
    public var message: String
    /// The part of the message it refers to.
    public var part: TextPart
    /// Where in that part, when the warning is about specific characters.
    public var range: TextRange?

    /// A warning about `part`, optionally about a range of it.
    public init(code: LintCode, message: String, part: TextPart, range: TextRange? = nil) {
        self.code = code
        self.message = message
        self.part = part
        self.range = range
    }
}

/// The parts a composed message is made of.
public enum TextPart: String, Sendable, Codable {
    case header, body, footer
    /// The whole composed message.
    case message
}
