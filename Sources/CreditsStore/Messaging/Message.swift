import CreditsCore
import Foundation

/// Where a campaign stands as stored; "completed" is not stored but seen from its messages.
public enum CampaignStatus: String, Sendable, Codable {
    /// Waiting for its time or for the sending window.
    case scheduled
    /// Its messages are being dispatched.
    case sending
    /// Canceled before all of it was sent.
    case canceled
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
    public var status: CampaignStatus
    public var requested: Int
    public var accepted: Int
    public var skipped: [SkipReason: Int]
    public var creditsReserved: Credits
    public var createdAt: Date
    public var canceledAt: Date?
    /// The media its messages carry (a picture message), by id.
    public var media: [String]? = nil

    public init(
        id: String,
        organizationID: OrganizationID,
        account: AccountID,
        actor: String,
        actorName: String,
        body: String,
        channel: Channel,
        automated: Bool,
        sendAt: Date?,
        notBefore: Date,
        status: CampaignStatus,
        requested: Int,
        accepted: Int,
        skipped: [SkipReason: Int],
        creditsReserved: Credits,
        createdAt: Date,
        canceledAt: Date?
    ) {
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
    /// The campaign it belongs to (none for a reply or a keyword's answer).
    public var campaignID: String? = nil
    public var from: String
    public var to: String
    public var body: String
    public var channel: Channel
    public var attempts: Int
    /// True when an earlier dispatch may have reached the provider.
    public var retry: Bool
    public var holdID: HoldID?
    /// The media it carries, by id (a picture message).
    public var media: [String] = []
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

/// Whether staff still have a conversation on their list.
public enum ConversationStatus: String, Sendable, Codable, CaseIterable {
    case open
    case closed
}

/// A conversation in the Messenger Center: all texts with one person on one of the
/// organisation's numbers.
public struct Conversation: Sendable, Equatable, Codable {
    public var id: String
    public var organizationID: OrganizationID
    public var phone: String
    /// The organisation's number the texts go to and come from ('' for a conversation kept
    /// before numbers were told apart, with no text).
    public var number: String
    public var contactName: String?
    public var contactID: String?
    public var status: ConversationStatus
    public var unread: Int
    /// True when an inbound text asked to stop in other words.
    public var flagged: Bool
    public var lastMessageAt: Date
    public var lastMessage: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, phone, number, status, unread, flagged
        case organizationID = "organization_id"
        case contactName = "contact_name"
        case contactID = "contact_id"
        case lastMessageAt = "last_message_at"
        case lastMessage = "last_message"
        case createdAt = "created_at"
    }
}
