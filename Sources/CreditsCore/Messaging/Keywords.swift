/// What an inbound text asks for, decided by the carrier-standard keywords (DESIGN §3).
public enum KeywordIntent: Sendable, Equatable {
    /// STOP and its synonyms: the contact opts out of every number of the organisation.
    case optOut(keyword: String)
    /// START, YES, UNSTOP: the contact opts back in.
    case optIn(keyword: String)
    /// HELP, INFO: the contact asks how to reach the organisation.
    case help(keyword: String)
    /// JOIN, where the organisation turned the keyword on: the sender asks to be texted, and is
    /// asked to confirm by replying YES (double opt-in).
    case join(keyword: String)
    /// A longer text that contains an opt-out word: flagged for staff to review.
    case containsOptOutWord(word: String, range: TextRange)
    /// Anything else: a conversation message.
    case other

    /// Stable name for logs and the API.
    public var name: String {
        switch self {
        case .optOut: "opt_out"
        case .optIn: "opt_in"
        case .help: "help"
        case .join: "join"
        case .containsOptOutWord: "contains_opt_out_word"
        case .other: "other"
        }
    }

    /// Opt-out, opt-in or help: the words every number answers whoever holds it.
    public var isCarrierKeyword: Bool {
        switch self {
        case .optOut, .optIn, .help: true
        case .join, .containsOptOutWord, .other: false
        }
    }
}

/// Classifies inbound texts by keyword.
///
/// A keyword counts only as the whole message after trimming whitespace and punctuation, in any
/// case ("Stop.", " stop!! ", "Opt-Out" all opt out); inner runs of spaces or hyphens are one space.
public enum Keywords {
    /// Opt-out keywords (CTIA/Twilio standard set).
    public static let optOut = [
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT",
    ]
    /// Opt-in keywords.
    public static let optIn = ["START", "YES", "UNSTOP"]
    /// Help keywords.
    public static let help = ["HELP", "INFO"]
    /// The sign-up keyword, answered only where the organisation turned it on.
    public static let join = ["JOIN"]

    /// Longest text that is still looked at as a possible keyword; longer ones are conversation.
    static let keywordLengthMax = 32

    /// Classifies one inbound body; JOIN is a keyword only when `joinKeyword` is on (otherwise
    /// it is a conversation message like any other).
    public static func classify(_ body: String, joinKeyword: Bool = false) -> KeywordIntent {
        let normalized = normalize(body)
        if normalized.unicodeScalars.count <= keywordLengthMax {
            if optOut.contains(normalized) { return .optOut(keyword: normalized) }
            if optIn.contains(normalized) { return .optIn(keyword: normalized) }
            if help.contains(normalized) { return .help(keyword: normalized) }
            if joinKeyword, join.contains(normalized) { return .join(keyword: normalized) }
        }
        let lower = body.lowercased()
        var first: (word: String, range: TextRange)?
        for word in optOut {
            guard let range = TextSearch.wholeWordRanges(of: word.lowercased(), in: lower).first else { continue }
            if let current = first, current.range.start <= range.start { continue }
            first = (word, range)
        }
        if let first { return .containsOptOutWord(word: first.word, range: first.range) }
        return .other
    }

    /// Upper-cases, trims whitespace and punctuation at both ends, and folds inner runs of
    /// whitespace, hyphens and underscores to one space.
    static func normalize(_ body: String) -> String {
        let trimmed = body.unicodeScalars.drop(while: isTrimmable).reversed().drop(while: isTrimmable).reversed()
        var output = ""
        var pendingSpace = false
        for scalar in trimmed {
            if scalar.properties.isWhitespace || scalar == "-" || scalar == "_" {
                pendingSpace = true
                continue
            }
            if pendingSpace {
                output.append(" ")
                pendingSpace = false
            }
            output.unicodeScalars.append(scalar)
        }
        return output.uppercased()
    }

    static func isTrimmable(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isWhitespace || properties.isDefaultIgnorableCodePoint { return true }
        switch properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation, .mathSymbol, .otherSymbol, .modifierSymbol, .control, .format:
            return true
        default:
            return false
        }
    }
}
