/// The id of the HTTP request that caused some work. The server takes it from the request's
/// `X-Request-Id` (or makes one) and binds it to the task that handles the request; work queued
/// there (a campaign, a voice broadcast, a purchase) keeps it in its row, so the background jobs
/// that finish that work later log the same id as the request did.
public struct RequestID: Sendable, Hashable, CustomStringConvertible {
    /// The id as sent and logged.
    public let rawValue: String

    /// The longest id taken from a client.
    public static let lengthMax = 64

    /// The request id of the task that runs now (set by the server around each request).
    @TaskLocal public static var current: RequestID?

    /// An id a client sent: 1–64 characters of letters, digits, `.`, `_` and `-`; anything else
    /// is not an id (the server makes its own instead).
    public init?(_ text: String) {
        guard (1...RequestID.lengthMax).contains(text.utf8.count),
            text.utf8.allSatisfy({ RequestID.allowed($0) })
        else { return nil }
        rawValue = text
    }

    private init(made: String) { rawValue = made }

    /// A new id for a request that brought none.
    public static func make() -> RequestID { RequestID(made: Identifier.make("req_")) }

    public var description: String { rawValue }

    static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
