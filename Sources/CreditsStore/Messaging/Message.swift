import CreditsCore
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

/// A message as stored.
public struct Message: Sendable, Equatable, Codable {
    public var id: String
    public var organizationID: OrganizationID
    public var campaignID: String?
    public var conversationID: String?
    public var direction: String
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

    public init(id: String, organizationID: OrganizationID, campaignID: String?, conversationID: String?, direction: String, kind: MessageKind,
                from: String, to: String, body: String, channel: Channel, segments: Int, credits: Credits, status: MessageStatus,
                holdID: HoldID?, charged: Credits? = nil, providerID: String? = nil, providerSegments: Int? = nil, errorCode: String? = nil,
                errorMessage: String? = nil, flagged: Bool = false, notBefore: Date, attempts: Int = 0, createdAt: Date, updatedAt: Date) {
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
        case id, direction, kind, from, to, body, channel, segments, credits, status, charged, flagged, attempts
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
    }
}

/// One step of a message's status history.
public struct MessageEvent: Sendable, Equatable, Codable {
    public var status: String
    public var detail: String?
    public var at: Date
}

/// A send to many recipients as stored, with why some were skipped.
public struct Campaign: Sendable, Equatable, Codable {
    public var id: String
    public var organizationID: OrganizationID
    public var account: AccountID
    public var actor: String
    public var actorName: String
    public var body: String
    public var channel: Channel
    public var automated: Bool
    public var sendAt: Date?
    public var notBefore: Date
    /// scheduled (waiting for its time or the sending window), sending, or canceled.
    public var status: String
    public var requested: Int
    public var accepted: Int
    public var skipped: [String: Int]
    public var creditsReserved: Credits
    public var createdAt: Date
    public var canceledAt: Date?

    public init(id: String, organizationID: OrganizationID, account: AccountID, actor: String, actorName: String, body: String, channel: Channel,
                automated: Bool, sendAt: Date?, notBefore: Date, status: String, requested: Int, accepted: Int, skipped: [String: Int],
                creditsReserved: Credits, createdAt: Date, canceledAt: Date?) {
        self.id = id
        self.organizationID = organizationID
        self.account = account
        self.actor = actor
        self.actorName = actorName
        self.body = body
        self.channel = channel
        self.automated = automated
        self.sendAt = sendAt
        self.notBefore = notBefore
        self.status = status
        self.requested = requested
        self.accepted = accepted
        self.skipped = skipped
        self.creditsReserved = creditsReserved
        self.createdAt = createdAt
        self.canceledAt = canceledAt
    }
}

/// A message claimed for dispatch.
public struct ClaimedMessage: Sendable, Equatable {
    public var id: String
    public var organizationID: OrganizationID
    public var from: String
    public var to: String
    public var body: String
    public var channel: Channel
    public var attempts: Int
    /// True when an earlier dispatch may have reached the provider.
    public var retry: Bool
    public var holdID: HoldID?
}

/// What a dispatch attempt ended with.
public enum DispatchResult: Sendable, Equatable {
    /// The provider took it.
    case sent(providerID: String, segments: Int?)
    /// Try again at this instant.
    case retry(at: Date, error: String)
    /// Refused for good: the message fails and its hold is voided.
    case failed(code: String, message: String)
}

/// A conversation in the Messenger Center: all texts with one number.
public struct Conversation: Sendable, Equatable, Codable {
    public var id: String
    public var organizationID: OrganizationID
    public var phone: String
    public var contactName: String?
    public var contactID: String?
    /// open or closed.
    public var status: String
    public var unread: Int
    /// True when an inbound text asked to stop in other words.
    public var flagged: Bool
    public var lastMessageAt: Date
    public var lastMessage: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, phone, status, unread, flagged
        case organizationID = "organization_id"
        case contactName = "contact_name"
        case contactID = "contact_id"
        case lastMessageAt = "last_message_at"
        case lastMessage = "last_message"
        case createdAt = "created_at"
    }
}
