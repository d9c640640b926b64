import CreditsCore
import CreditsStore
import Foundation

/// Writes webhook events into the outbox in the unit of work of the change they tell of: an event
/// exists exactly when its change committed. Only events some enabled endpoint of the
/// organisation wants are written, each with one delivery per such endpoint; with no endpoint the
/// cost is one indexed read.
public enum WebhookOutbox {
    /// Writes the events `make` returns that an endpoint of their organisation wants
    /// (`WebhookStore.emit`).
    public static func emit(
        for organizations: Set<OrganizationID>,
        in work: UnitOfWork,
        _ make: () throws -> [WebhookEvent]
    ) async throws {
        try await WebhookStore.emit(for: organizations, in: work, make)
    }

    /// A new event id (`webhook-id`).
    public static func eventID() -> String { Identifier.make("evt_") }

    /// Events for messages whose status changed to one that is told (sent, delivered,
    /// undelivered, failed).
    public static func messages(_ messages: [Message], prices: PriceList, at instant: Date, in work: UnitOfWork)
        async throws
    {
        let told = messages.filter { WebhookEventType.message($0.status) != nil && $0.direction == .outbound }
        guard !told.isEmpty else { return }
        try await emit(for: Set(told.map(\.organizationID)), in: work) {
            try told.map { message in
                try WebhookEvent(
                    id: eventID(),
                    organization: message.organizationID,
                    type: WebhookEventType.message(message.status)!,
                    at: instant,
                    data: MessageData(message, prices: prices)
                )
            }
        }
    }

    /// `message.received` for a text that came in.
    public static func received(_ message: Message, at instant: Date, in work: UnitOfWork) async throws {
        try await emit(for: [message.organizationID], in: work) {
            [
                try WebhookEvent(
                    id: eventID(),
                    organization: message.organizationID,
                    type: .messageReceived,
                    at: instant,
                    data: MessageData(message, prices: nil)
                )
            ]
        }
    }

    /// `campaign.completed` for campaigns whose last message became final.
    public static func campaigns(_ completed: [CompletedCampaign], at instant: Date, in work: UnitOfWork) async throws {
        guard !completed.isEmpty else { return }
        try await emit(for: Set(completed.map(\.organizationID)), in: work) {
            try completed.map {
                try WebhookEvent(
                    id: eventID(),
                    organization: $0.organizationID,
                    type: .campaignCompleted,
                    at: instant,
                    data: CampaignData(id: $0.id, counts: $0.counts, completedAt: instant)
                )
            }
        }
    }

    /// `call.completed` once a call is final and settled.
    public static func call(_ call: Call, charged: Credits, at instant: Date, in work: UnitOfWork) async throws {
        try await emit(for: [call.organizationID], in: work) {
            [
                try WebhookEvent(
                    id: eventID(),
                    organization: call.organizationID,
                    type: .callCompleted,
                    at: instant,
                    data: CallData(call, charged: charged)
                )
            ]
        }
    }

    /// `voicemail.received` once a caller's message is kept.
    public static func voicemail(_ call: Call, at instant: Date, in work: UnitOfWork) async throws {
        try await emit(for: [call.organizationID], in: work) {
            [
                try WebhookEvent(
                    id: eventID(),
                    organization: call.organizationID,
                    type: .voicemailReceived,
                    at: instant,
                    data: VoicemailData(
                        callID: call.id,
                        // A forwarded call keeps our number as `from` and the caller as `to`.
                        from: call.to,
                        to: call.from,
                        seconds: call.voicemailSeconds ?? 0,
                        media: call.voicemailMedia
                    )
                )
            ]
        }
    }

    /// An event about the organisation as a whole (purchases, auto-renew, subscriptions, credits).
    public static func organization<Data: Encodable>(
        _ organization: OrganizationID,
        _ type: WebhookEventType,
        data: Data,
        at instant: Date,
        in work: UnitOfWork
    ) async throws {
        try await emit(for: [organization], in: work) {
            [try WebhookEvent(id: eventID(), organization: organization, type: type, at: instant, data: data)]
        }
    }
}

/// A message as an event tells it.
struct MessageData: Encodable {
    var id: String
    var campaignID: String?
    var conversationID: String?
    var direction: String
    var from: String
    var to: String
    var status: String
    var channel: String
    var segments: Int
    var creditsHeld: Credits?
    var creditsCharged: Credits?
    var errorCode: String?
    var errorMessage: String?
    var body: String?
    var media: [String]?

    init(_ message: Message, prices: PriceList?) {
        id = message.id
        campaignID = message.campaignID
        conversationID = message.conversationID
        direction = message.direction.rawValue
        from = message.from
        to = message.to
        status = message.status.rawValue
        channel = message.channel.rawValue
        segments = message.providerSegments ?? message.segments
        errorCode = message.errorCode
        errorMessage = message.errorMessage
        if message.direction == .inbound {
            body = message.body
            media = message.media
        } else {
            creditsHeld = message.credits
            if let prices, message.status.isFinal {
                creditsCharged =
                    [.delivered, .undelivered].contains(message.status)
                    ? SettlementCharge.credits(
                        held: message.credits,
                        providerSegments: message.providerSegments,
                        channel: message.channel,
                        prices: prices
                    ) : .zero
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, direction, from, to, status, channel, segments, body, media
        case campaignID = "campaign_id"
        case conversationID = "conversation_id"
        case creditsHeld = "credits_held"
        case creditsCharged = "credits_charged"
        case errorCode = "error_code"
        case errorMessage = "error_message"
    }
}

struct CampaignData: Encodable {
    var id: String
    var counts: [String: Int]
    var completedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, counts
        case completedAt = "completed_at"
    }
}

struct CallData: Encodable {
    var id: String
    var kind: String
    var direction: String
    var broadcastID: String?
    var from: String
    var to: String
    var status: String
    var answeredBy: String?
    var duration: Int?
    var creditsCharged: Credits
    var optedOut: Bool

    init(_ call: Call, charged: Credits) {
        id = call.id
        kind = call.kind.rawValue
        broadcastID = call.broadcastID
        // As the call went: a forwarded call came from the caller (stored as `to`) to our number.
        let inbound = call.kind == .forwarded
        direction = inbound ? "inbound" : "outbound"
        from = inbound ? call.to : call.from
        to = inbound ? call.from : call.to
        status = call.status.rawValue
        answeredBy = call.answeredBy?.rawValue
        duration = call.duration
        creditsCharged = charged
        optedOut = call.optedOut
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, direction, from, to, status, duration
        case broadcastID = "broadcast_id"
        case answeredBy = "answered_by"
        case creditsCharged = "credits_charged"
        case optedOut = "opted_out"
    }
}

struct VoicemailData: Encodable {
    var callID: String
    var from: String
    var to: String
    var seconds: Int
    var media: String?

    enum CodingKeys: String, CodingKey {
        case from, to, seconds
        case callID = "call_id"
        case media = "media_id"
    }
}
