import CreditsCore
import CreditsStore
import Foundation

/// `POST /v1/messages`: a send to phone numbers, contacts and/or groups.
public struct SendInput: APIInput, Sendable {
    /// Phone numbers, in any style the organisation's country uses.
    public var to: [String]?
    /// Contact ids.
    public var contacts: [String]?
    /// Group names.
    public var groups: [String]?
    /// The text, with merge fields such as {{first_name}}.
    public var body: String
    public var channel: Channel?
    /// Send later (held until then, and until the sending window opens).
    public var sendAt: Date?
    /// A workflow's message: waits for the sending window instead of being refused.
    public var automated: Bool?
    /// Send a manual mass text outside the sending hours (needs override_sending_hours).
    public var overrideSendingHours: Bool?
    /// Media ids (`POST /v1/media`): the send goes as a picture message (MMS).
    public var media: [String]?
    /// The number it goes from (default: the organisation's default number); its kind sets the price.
    public var from: String?

    enum CodingKeys: String, CodingKey {
        case to, contacts, groups, body, channel, automated, media, from
        case sendAt = "send_at"
        case overrideSendingHours = "override_sending_hours"
    }

    public static let fields = JSONFields([
        "to", "contacts", "groups", "body", "channel", "send_at", "automated", "override_sending_hours", "media",
        "from",
    ])

    public init(
        to: [String]? = nil,
        contacts: [String]? = nil,
        groups: [String]? = nil,
        body: String,
        channel: Channel? = nil,
        sendAt: Date? = nil,
        automated: Bool? = nil,
        overrideSendingHours: Bool? = nil,
        media: [String]? = nil
    ) {
        self.media = media
        self.to = to
        self.contacts = contacts
        self.groups = groups
        self.body = body
        self.channel = channel
        self.sendAt = sendAt
        self.automated = automated
        self.overrideSendingHours = overrideSendingHours
    }
}

/// `POST /v1/conversations/{id}/messages`.
public struct ReplyInput: APIInput, Sendable {
    public var body: String
    public static let fields = JSONFields(["body"])
}

/// `PATCH /v1/conversations/{id}`.
public struct ConversationPatch: APIInput, Sendable {
    /// open or closed.
    public var status: String?
    public var read: Bool?
    public var flagged: Bool?
    public static let fields = JSONFields(["status", "read", "flagged"])

    public init(status: String? = nil, read: Bool? = nil, flagged: Bool? = nil) {
        self.status = status
        self.read = read
        self.flagged = flagged
    }
}

/// A campaign with its counts, as the API shows it.
public struct CampaignView: Encodable, Sendable {
    public var campaign: Campaign
    /// Messages by status.
    public var counts: [MessageStatus: Int]
    public var creditsPosted: Credits
    public var creditsReleased: Credits

    enum CodingKeys: String, CodingKey {
        case id, status, body, channel, automated, requested, accepted, skipped, counts, media
        case sendAt = "send_at"
        case notBefore = "not_before"
        case creditsReserved = "credits_reserved"
        case creditsPosted = "credits_posted"
        case creditsReleased = "credits_released"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case canceledAt = "canceled_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(campaign.id, forKey: .id)
        try container.encode(state, forKey: .status)
        try container.encode(campaign.body, forKey: .body)
        try container.encode(campaign.channel, forKey: .channel)
        try container.encode(campaign.automated, forKey: .automated)
        try container.encode(campaign.sendAt, forKey: .sendAt)
        try container.encode(campaign.notBefore, forKey: .notBefore)
        try container.encode(campaign.requested, forKey: .requested)
        try container.encode(campaign.accepted, forKey: .accepted)
        try container.encode(campaign.skipped, forKey: .skipped)
        try container.encode(counts, forKey: .counts)
        try container.encode(campaign.creditsReserved, forKey: .creditsReserved)
        try container.encode(creditsPosted, forKey: .creditsPosted)
        try container.encode(creditsReleased, forKey: .creditsReleased)
        try container.encode(campaign.actorName, forKey: .createdBy)
        try container.encode(campaign.createdAt, forKey: .createdAt)
        try container.encode(campaign.canceledAt, forKey: .canceledAt)
        try container.encodeIfPresent(campaign.media, forKey: .media)
    }
}

extension CampaignView {
    /// Where the campaign stands as people see it: canceled, completed once none of its messages
    /// is still on its way, else scheduled or sending.
    public var state: String {
        if campaign.status == .canceled { return CampaignStatus.canceled.rawValue }
        let inFlight = [MessageStatus.queued, .sending, .sent].reduce(0) { $0 + (counts[$1] ?? 0) }
        return inFlight == 0 ? "completed" : campaign.status.rawValue
    }
}

/// A message with its status history.
public struct MessageView: Encodable, Sendable {
    public var message: Message
    public var history: [MessageEvent]

    enum CodingKeys: String, CodingKey { case history }

    public func encode(to encoder: any Encoder) throws {
        try message.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(history, forKey: .history)
    }
}
