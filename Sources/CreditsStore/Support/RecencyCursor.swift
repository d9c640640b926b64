import SQLKit

/// The position after the last row of a newest-first page ordered by (instant, id): lists whose
/// order is a time rather than the id (campaigns by creation, conversations by latest message).
public struct RecencyCursor: Sendable, Equatable {
    public let milliseconds: Int64
    public let id: String

    public init(milliseconds: Int64, id: String) {
        self.milliseconds = milliseconds
        self.id = id
    }

    /// Parses the text form `MILLISECONDS-ID`; nil when it is not one.
    public init?(_ text: String) {
        // Found among the bytes, not the characters: a dash followed by a combining mark or a
        // skin-tone modifier is one character with it.
        guard let dash = text.utf8.firstIndex(of: UInt8(ascii: "-")),
            let milliseconds = Int64(String(decoding: text.utf8[..<dash], as: UTF8.self)), milliseconds >= 0
        else {
            return nil
        }
        let id = String(decoding: text.utf8[text.utf8.index(after: dash)...], as: UTF8.self)
        guard !id.isEmpty, id.count <= 100 else { return nil }
        self.init(milliseconds: milliseconds, id: id)
    }

    public var text: String { "\(milliseconds)-\(id)" }

    /// `AND` condition selecting the rows after this cursor in `ORDER BY instant, id` (oldest first).
    func conditionOldestFirst(instant: String, id column: String) -> SQLQueryString {
        " AND (\(unsafeRaw: instant) > \(bind: milliseconds) OR (\(unsafeRaw: instant) = \(bind: milliseconds) AND \(unsafeRaw: column) > \(bind: id)))"
    }

    /// `AND` condition selecting the rows after this cursor in `ORDER BY instant DESC, id DESC`.
    func condition(instant: String, id column: String) -> SQLQueryString {
        " AND (\(unsafeRaw: instant) < \(bind: milliseconds) OR (\(unsafeRaw: instant) = \(bind: milliseconds) AND \(unsafeRaw: column) < \(bind: id)))"
    }
}
