import Foundation

/// What an outbound or inbound message is for.
public enum MessageKind: String, Sendable, Codable, CaseIterable {
    /// Part of a send to many (or one) recipients.
    case campaign
    /// A staff reply in the Messenger Center.
    case reply
    /// The answer to STOP, START or HELP (never charged).
    case keywordReply = "keyword_reply"
    /// The signup message sent on opt-in.
    case signup
    /// The no-reply notice (never charged).
    case notice
    /// A text someone sent us.
    case inbound
}

/// Whether a message came in or goes out.
public enum MessageDirection: String, Sendable, Codable {
    case inbound
    case outbound
}

/// A message as stored: what was sent or received, what it was estimated and charged, and
/// where it stands.
public struct Message: Sendable, Equatable, Codable {
    public var id: String
    public var organizationID: OrganizationID
    public var campaignID: String?
    public var conversationID: String?
    public var direction: MessageDirection
    public var kind: MessageKind
    public var from: String
    public var to: String
    public var body: String
    public var channel: Channel
    /// Segments the estimate counted.
    public var segments: Int
    /// Credits held for it (the estimate); 0 for free messages.
    public var credits: Credits
    public var status: MessageStatus
    public var holdID: HoldID?
    /// Credits charged when it settled.
    public var charged: Credits?
    public var providerID: String?
    public var providerSegments: Int?
    public var errorCode: String?
    public var errorMessage: String?
    /// An inbound text that contains an opt-out word, for staff to review.
    public var flagged: Bool
    /// Not dispatched before this instant (scheduled, or waiting for sending hours).
    public var notBefore: Date
    public var attempts: Int
    public var createdAt: Date
    public var updatedAt: Date
    /// The media it carries (a picture message), by id; nil for a text alone.
    public var media: [String]?
    /// The attempt this one re-sends from the toll-free number after a carrier filtered it.
    public var reprocessOf: String?
    /// The attempt that re-sent this one from the toll-free number (filled in by reads).
    public var reprocessedAs: String?

    public init(
        id: String,
        organizationID: OrganizationID,
        campaignID: String?,
        conversationID: String?,
        direction: MessageDirection,
        kind: MessageKind,
        from: String,
        to: String,
        body: String,
        channel: Channel,
        segments: Int,
        credits: Credits,
        status: MessageStatus,
        holdID: HoldID?,
        charged: Credits? = nil,
        providerID: String? = nil,
        providerSegments: Int? = nil,
        errorCode: String? = nil,
        errorMessage: String? = nil,
        flagged: Bool = false,
        notBefore: Date,
        attempts: Int = 0,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.campaignID = campaignID
        self.conversationID = conversationID
        self.direction = direction
        self.kind = kind
        self.from = from
        self.to = to
        self.body = body
        self.channel = channel
        self.segments = segments
        self.credits = credits
        self.status = status
        self.holdID = holdID
        self.charged = charged
        self.providerID = providerID
        self.providerSegments = providerSegments
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.flagged = flagged
        self.notBefore = notBefore
        self.attempts = attempts
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, direction, kind, from, to, body, channel, segments, credits, status, charged, flagged, attempts, media
        case organizationID = "organization_id"
        case campaignID = "campaign_id"
        case conversationID = "conversation_id"
        case holdID = "hold_id"
        case providerID = "provider_id"
        case providerSegments = "provider_segments"
        case errorCode = "error_code"
        case errorMessage = "error_message"
        case notBefore = "not_before"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case reprocessOf = "reprocess_of"
        case reprocessedAs = "reprocessed_as"
    }
}

/// One step of a message's status history.
public struct MessageEvent: Sendable, Equatable, Codable {
    public var status: MessageStatus
    public var detail: String?
    public var at: Date

    public init(status: MessageStatus, detail: String?, at: Date) {
        self.status = status
        self.detail = detail
        self.at = at
    }
}
