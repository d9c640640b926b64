import Foundation

/// What an organisation's systems can be told about, by outbound webhook.
public enum WebhookEventType: String, Sendable, Codable, CaseIterable, Comparable {
    case messageSent = "message.sent"
    case messageDelivered = "message.delivered"
    case messageUndelivered = "message.undelivered"
    case messageFailed = "message.failed"
    case messageReceived = "message.received"
    case contactOptedOut = "contact.opted_out"
    case contactOptedIn = "contact.opted_in"
    case campaignCompleted = "campaign.completed"
    case callCompleted = "call.completed"
    case voicemailReceived = "voicemail.received"
    case creditsLow = "credits.low"
    case creditsExhausted = "credits.exhausted"
    case purchaseSucceeded = "purchase.succeeded"
    case purchaseFailed = "purchase.failed"
    case autoRenewFailed = "auto_renew.failed"
    case subscriptionRenewed = "subscription.renewed"

    public static func < (lhs: WebhookEventType, rhs: WebhookEventType) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The event a message's new status is told as, if any.
    public static func message(_ status: MessageStatus) -> WebhookEventType? {
        switch status {
        case .sent: .messageSent
        case .delivered: .messageDelivered
        case .undelivered: .messageUndelivered
        case .failed: .messageFailed
        default: nil
        }
    }
}

/// One event as it is delivered: the Standard Webhooks body `{"type", "timestamp", "data"}`,
/// made once when the change happened so every attempt sends the same bytes.
public struct WebhookEvent: Sendable, Equatable {
    /// `webhook-id`: the same on every attempt, so a receiver can drop repeats.
    public var id: String
    public var organization: OrganizationID
    public var type: WebhookEventType
    public var at: Date
    /// The JSON body.
    public var body: String

    public init(id: String, organization: OrganizationID, type: WebhookEventType, at: Date, body: String) {
        self.id = id
        self.organization = organization
        self.type = type
        self.at = at
        self.body = body
    }

    /// Makes the body of an event about `data` (encoded with the API's names).
    public init<Data: Encodable>(
        id: String,
        organization: OrganizationID,
        type: WebhookEventType,
        at: Date,
        data: Data
    ) throws {
        let envelope = Envelope(type: type.rawValue, timestamp: at, data: data)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(WebhookEvent.timestamp(date))
        }
        let body = String(decoding: try encoder.encode(envelope), as: UTF8.self)
        self.init(id: id, organization: organization, type: type, at: at, body: body)
    }

    struct Envelope<Data: Encodable>: Encodable {
        var type: String
        var timestamp: Date
        var data: Data
    }

    /// RFC 3339 in UTC with milliseconds, as the API writes times.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// When a delivery that failed is tried again: 5 s, then doubling (10 s, 20 s … ) up to six
/// hours between tries, each spread by up to a fifth either way so endpoints that failed together
/// are not all tried again together; nothing is tried once three days have passed since the event.
public enum WebhookRetry {
    /// How long an event is tried for.
    public static let horizon: TimeInterval = 3 * 24 * 3600
    /// The first wait.
    public static let first: TimeInterval = 5
    /// The longest wait between two tries.
    public static let longest: TimeInterval = 6 * 3600
    /// An endpoint is turned off when it has failed this many tries in a row …
    public static let failuresToDisable = 10
    /// … spanning at least this long (inside the horizon, so one event retried is enough).
    public static let failingToDisable: TimeInterval = 48 * 3600

    /// The wait after the `failures`-th failure (1 for the first), before jitter.
    public static func delay(afterFailures failures: Int) -> TimeInterval {
        let exponent = min(max(failures - 1, 0), 30)
        return min(first * pow(2, Double(exponent)), longest)
    }

    /// When to try again after the `failures`-th failure at `instant`, or nil when the event is
    /// past its horizon. `jitter` is a number in 0..<1 (random in production).
    public static func next(afterFailures failures: Int, at instant: Date, eventAt: Date, jitter: Double) -> Date? {
        let spread = 0.8 + 0.4 * min(max(jitter, 0), 1)
        let next = instant.addingTimeInterval(delay(afterFailures: failures) * spread)
        return next.timeIntervalSince(eventAt) <= horizon ? next : nil
    }

    /// Whether an endpoint that has failed `consecutive` times in a row since `failingSince`
    /// should be turned off: every try for two days failed, and there were at least ten.
    public static func shouldDisable(consecutive: Int, failingSince: Date, at instant: Date) -> Bool {
        consecutive >= failuresToDisable && instant.timeIntervalSince(failingSince) >= failingToDisable
    }
}
