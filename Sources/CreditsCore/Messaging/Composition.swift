/// Assembles the text that is actually sent: header, body and footer, or a signup message alone.
///
/// The header is prepended and the footer appended on lines of their own, and both count toward
/// the segments; the signup message is sent without them (seed: "The Message Header and Footer
/// are not included in the Signup Message").
public struct Composition: Sendable, Equatable, Codable {
    /// Prepended to every message (≤ 50 characters), or empty for none.
    public var header: String
    /// Appended to every message (≤ 50 characters), or empty for none.
    public var footer: String

    /// Separator between header, body and footer.
    public static let separator = "\n"

    /// A composition with the given parts; checks nothing (see `validated()`).
    public init(header: String = "", footer: String = "") {
        self.header = header
        self.footer = footer
    }

    /// Checks the header and footer limits.
    public func validated() throws(MessageError) -> Composition {
        try MessageBody.validate(header, as: .header)
        try MessageBody.validate(footer, as: .footer)
        return self
    }

    /// The text sent for a regular message: checks the body, then the whole.
    public func compose(body: String) throws(MessageError) -> String {
        try MessageBody.validate(body)
        if header.isEmpty && footer.isEmpty { return body }
        var parts: [String] = []
        if !header.isEmpty { parts.append(header) }
        parts.append(body)
        if !footer.isEmpty { parts.append(footer) }
        let text = parts.joined(separator: Composition.separator)
        let length = MessageBody.length(of: text)
        if length > MessageBody.lengthMax { throw .composedTooLong(length: length) }
        return text
    }

    /// The text sent when a contact opts in: the signup message alone, within its own limit.
    public static func composeSignup(_ signupMessage: String) throws(MessageError) -> String {
        try MessageBody.validate(signupMessage, as: .signupMessage)
        try MessageBody.validate(signupMessage)
        return signupMessage
    }
}
