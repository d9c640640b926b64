import CreditsCore
import Foundation

/// A person's request to be texted, from the public opt-in page or the JOIN keyword, kept with
/// what they were shown; it becomes consent when they confirm by replying YES.
public struct OptIn: Sendable, Equatable, Encodable {
    public var id: String
    public var organizationID: OrganizationID
    public var phone: String
    /// The name typed on the page (none for the keyword).
    public var name: String?
    public var source: OptInSource
    /// Where the request came from: the page request's client address, or the phone for JOIN.
    public var address: String
    /// The exact consent wording shown, with the organisation's name filled in.
    public var wording: String
    /// The confirmation text asking for the YES (none when none was sent).
    public var messageID: String?
    public var requestedAt: Date
    public var expiresAt: Date
    public var confirmedAt: Date?

    public init(
        id: String,
        organizationID: OrganizationID,
        phone: String,
        name: String?,
        source: OptInSource,
        address: String,
        wording: String,
        messageID: String?,
        requestedAt: Date,
        expiresAt: Date,
        confirmedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.phone = phone
        self.name = name
        self.source = source
        self.address = address
        self.wording = wording
        self.messageID = messageID
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
        self.confirmedAt = confirmedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, source, address, wording
        case requestedAt = "requested_at"
        case confirmedAt = "confirmed_at"
    }

    /// The consent record as the API shows it with a consent event.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encode(source, forKey: .source)
        try container.encode(address, forKey: .address)
        try container.encode(wording, forKey: .wording)
        try container.encode(requestedAt, forKey: .requestedAt)
        try container.encodeIfPresent(confirmedAt, forKey: .confirmedAt)
    }
}
