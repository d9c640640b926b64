/// Identifiers of ledger records. They are opaque text (time-ordered UUIDs made by the store),
/// wrapped in distinct types so an account id can never be passed where a hold id belongs.
public protocol LedgerIdentifier: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The stored text.
    var rawValue: String { get }
    /// Wraps stored text.
    init(_ rawValue: String)
}

extension LedgerIdentifier {
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// An organisation (tenant).
public struct OrganizationID: LedgerIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// A ledger account: a pool, a staff wallet, or one of the outside accounts.
public struct AccountID: LedgerIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// A lot: credits that entered the ledger together and share an expiry.
public struct LotID: LedgerIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// A hold: credits reserved for a message until its delivery report settles them.
public struct HoldID: LedgerIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// One applied ledger operation (its idempotency record).
public struct TransferID: LedgerIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}
