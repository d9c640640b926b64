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
        guard let dash = text.firstIndex(of: "-"), let milliseconds = Int64(text[..<dash]), milliseconds >= 0 else {
            return nil
        }
        let id = String(text[text.index(after: dash)...])
        guard !id.isEmpty, id.count <= 100 else { return nil }
        self.init(milliseconds: milliseconds, id: id)
    }

    public var text: String { "\(milliseconds)-\(id)" }

    /// `AND` condition selecting the rows after this cursor in `ORDER BY instant DESC, id DESC`.
    func condition(instant: String, id column: String) -> SQLQueryString {
        " AND (\(unsafeRaw: instant) < \(bind: milliseconds) OR (\(unsafeRaw: instant) = \(bind: milliseconds) AND \(unsafeRaw: column) < \(bind: id)))"
    }
}
