/// The rules for a message text's length.
///
/// Length is counted in Unicode scalars (what most editors and Python call characters; an emoji
/// such as 😀 is one, a family emoji joined with ZWJ is several).
public enum MessageBody {
    /// Longest body a provider accepts in one request.
    public static let lengthMax = 1600

    /// Characters in a text, in the unit every limit here uses.
    public static func length(of text: some StringProtocol) -> Int { UTF8Scan.scalarCount(of: text) }

    /// Checks that a body has 1…1600 characters.
    public static func validate(_ body: String) throws(MessageError) {
        let length = length(of: body)
        if length == 0 { throw .bodyEmpty }
        if length > lengthMax { throw .bodyTooLong(length: length) }
    }

    /// Checks a header, footer or signup message against its limit (empty is allowed: none).
    public static func validate(_ text: String, as part: MessagePart) throws(MessageError) {
        let length = length(of: text)
        if length > part.lengthMax { throw .partTooLong(part: part, length: length) }
    }
}
