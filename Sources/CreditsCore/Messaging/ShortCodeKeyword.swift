import Foundation

/// A keyword on the shared short code: people text it to the short code to reach the
/// organisation that holds it (alone, it asks to join its texts).
public enum ShortCodeKeyword {
    /// Why a keyword cannot be used.
    public enum Problem: Error, Sendable, Equatable {
        /// Not 3–20 letters and digits.
        case shape
        /// A word the short code answers itself (STOP, HELP, JOIN, YES …).
        case reserved(String)
    }

    public static let lengths = 3...20

    /// Words people start replies with (and the start of "opt out"): a keyword must not take a
    /// reply meant for another organisation on the same short code.
    static let commonWords: Set<String> = [
        "OPT", "OUT", "THANKS", "THANK", "THX", "TYVM", "OKAY", "YEP", "YEAH", "YES", "YUP", "NOPE", "SURE", "HELLO",
        "HEY", "HIYA", "WHEN", "WHAT", "WHERE", "WHY", "HOW", "WHO", "WHICH", "PLEASE", "PLS", "SORRY", "CAN", "WILL",
        "THE", "AND", "FOR", "ARE", "YOU", "YOUR", "DONE", "GOT", "GREAT", "GOOD", "COOL", "NICE", "LOVE", "CALL",
        "REMOVE", "DELETE", "WRONG", "NUMBER", "WHOS", "STOPPED", "UNSUBSCRIBE", "SUBSCRIBE", "INFO", "HELP",
    ]

    /// The keyword as it is kept (upper case), or why it cannot be one.
    public static func normalize(_ text: String) -> Result<String, Problem> {
        let keyword = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard lengths.contains(keyword.count),
            keyword.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) })
        else { return .failure(.shape) }
        let reserved = Keywords.optOut + Keywords.optIn + Keywords.help + Keywords.join
        guard !reserved.contains(keyword), !commonWords.contains(keyword) else { return .failure(.reserved(keyword)) }
        return .success(keyword)
    }

    /// The keyword a text to the short code starts with (its first word, upper case), and the
    /// rest of the text.
    public static func split(_ body: String) -> (keyword: String, rest: String) {
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        let first = trimmed.prefix { !$0.isWhitespace && !$0.isPunctuation }
        let rest = trimmed.dropFirst(first.count).trimmingCharacters(
            in: .whitespacesAndNewlines.union(.punctuationCharacters)
        )
        return (first.uppercased(), rest)
    }
}
