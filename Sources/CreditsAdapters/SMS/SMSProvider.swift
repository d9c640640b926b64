import CreditsCore
import Foundation

/// A text to hand to a provider.
public struct OutboundSMS: Sendable, Equatable {
    /// Our message id: the provider's idempotency reference, so a retry after a crash is not
    /// sent twice.
    public var reference: String
    public var from: String
    public var to: String
    public var body: String
    public var channel: Channel
    /// Where the provider reports delivery (signed).
    public var statusCallback: String
    /// True when an earlier attempt may have reached the provider (a dispatch interrupted by a
    /// crash); providers without idempotency keys look for the earlier message first.
    public var isRetry: Bool
    /// Where the provider fetches the media of a picture message (signed, expiring links).
    public var mediaURLs: [String]

    public init(
        reference: String,
        from: String,
        to: String,
        body: String,
        channel: Channel,
        statusCallback: String,
        isRetry: Bool = false,
        mediaURLs: [String] = []
    ) {
        self.mediaURLs = mediaURLs
        self.reference = reference
        self.from = from
        self.to = to
        self.body = body
        self.channel = channel
        self.statusCallback = statusCallback
        self.isRetry = isRetry
    }
}

/// The provider took the message.
public struct ProviderAcceptance: Sendable, Equatable {
    public var providerID: String
    /// Segments the provider counts, when it says.
    public var segments: Int?

    public init(providerID: String, segments: Int?) {
        self.providerID = providerID
        self.segments = segments
    }
}

/// Why a provider refused or could not take a message.
public struct ProviderError: Error, Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// The number cannot receive texts (Twilio 21211, 21614, 30005, 30006).
        case invalidNumber = "invalid_number"
        /// The recipient opted out at the carrier (21610).
        case optedOut = "opted_out"
        /// The provider or carrier refused the content or sender (30004, 30007).
        case rejected
        /// Too many requests (20429, 14107); try again later.
        case rateLimited = "rate_limited"
        /// A network or server problem; try again later.
        case temporary
        /// Our credentials were refused (20003).
        case authentication
    }

    public var kind: Kind
    /// The provider's own code ("21211").
    public var code: String
    public var message: String

    public init(kind: Kind, code: String, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// Permanent refusals end the message as failed (its hold is voided); the rest are retried.
    public var isPermanent: Bool {
        switch kind {
        case .invalidNumber, .optedOut, .rejected: true
        case .rateLimited, .temporary, .authentication: false
        }
    }
}

/// A delivery report from a status callback.
public struct StatusReport: Sendable, Equatable {
    public var providerID: String
    public var status: MessageStatus
    public var errorCode: String?
    public var errorMessage: String?
    public var segments: Int?

    public init(providerID: String, status: MessageStatus, errorCode: String?, errorMessage: String?, segments: Int?) {
        self.providerID = providerID
        self.status = status
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.segments = segments
    }
}

/// A text someone sent to one of our numbers.
public struct InboundSMS: Sendable, Equatable {
    public var providerID: String
    public var from: String
    public var to: String
    public var body: String
    /// Where the provider keeps the media of a picture message (`MediaUrl0` …), at most 10.
    public var mediaURLs: [String]

    public init(providerID: String, from: String, to: String, body: String, mediaURLs: [String] = []) {
        self.providerID = providerID
        self.from = from
        self.to = to
        self.body = body
        self.mediaURLs = mediaURLs
    }
}

/// What an organisation submits to register its brand (US 10DLC); every field is required.
public struct BrandRegistration: Sendable, Equatable, Codable {
    public var legalName: String
    public var taxID: String
    public var website: String
    public var email: String
    public var phone: String
    public var street: String
    public var city: String
    public var region: String
    public var postalCode: String
    public var vertical: String

    enum CodingKeys: String, CodingKey {
        case website, email, phone, street, city, region, vertical
        case legalName = "legal_name"
        case taxID = "tax_id"
        case postalCode = "postal_code"
    }

    public init(
        legalName: String,
        taxID: String,
        website: String,
        email: String,
        phone: String,
        street: String,
        city: String,
        region: String,
        postalCode: String,
        vertical: String
    ) {
        self.legalName = legalName
        self.taxID = taxID
        self.website = website
        self.email = email
        self.phone = phone
        self.street = street
        self.city = city
        self.region = region
        self.postalCode = postalCode
        self.vertical = vertical
    }

    /// The first empty field, if any ("all fields are required").
    public var missingField: String? {
        let fields: [(String, String)] = [
            ("legal_name", legalName), ("tax_id", taxID), ("website", website), ("email", email),
            ("phone", phone), ("street", street), ("city", city), ("region", region),
            ("postal_code", postalCode), ("vertical", vertical),
        ]
        return fields.first { $0.1.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }?.0
    }
}

/// A registration's state at the provider.
public enum RegistrationState: Sendable, Equatable {
    case pending
    /// Done; for a number, the number assigned.
    case completed(number: String?)
    /// Refused, with a reason code and a sentence (nil sentence: no message is shown, as on a timeout).
    case failed(reason: String, message: String?)
}

/// What a toll-free number's verification tells the carriers: who sends, why, what a text looks
/// like, and how recipients agreed (US and Canadian rules; Twilio's Tollfree Verifications).
public struct TollFreeVerification: Sendable, Equatable, Codable {
    public var businessName: String
    public var website: String
    /// Where the provider tells the organisation the outcome.
    public var notificationEmail: String
    public var useCaseSummary: String
    public var messageSample: String
    /// A public page showing how people opt in (the organisation's opt-in page).
    public var optInURL: String
    /// Estimated texts a month, as Twilio's ranges are written ("1,000").
    public var messageVolume: String

    public init(
        businessName: String,
        website: String,
        notificationEmail: String,
        useCaseSummary: String,
        messageSample: String,
        optInURL: String,
        messageVolume: String
    ) {
        self.businessName = businessName
        self.website = website
        self.notificationEmail = notificationEmail
        self.useCaseSummary = useCaseSummary
        self.messageSample = messageSample
        self.optInURL = optInURL
        self.messageVolume = messageVolume
    }

    enum CodingKeys: String, CodingKey {
        case website
        case businessName = "business_name"
        case notificationEmail = "notification_email"
        case useCaseSummary = "use_case_summary"
        case messageSample = "message_sample"
        case optInURL = "opt_in_url"
        case messageVolume = "message_volume"
    }
}

/// An SMS provider: sends texts, authenticates its callbacks, and registers brands and numbers.
public protocol SMSProvider: Sendable {
    /// "simulator" or "twilio": the `{provider}` of webhook paths.
    var name: String { get }
    /// Sends the dispatcher keeps in flight at once.
    var sendConcurrencyMax: Int { get }
    /// Hands a message over; the same `reference` never makes a second text.
    func send(_ message: OutboundSMS) async throws(ProviderError) -> ProviderAcceptance
    /// Places a call; returns the provider's id for it. A retry (`isRetry`) finds the earlier
    /// call instead of ringing the person again.
    func placeCall(_ call: OutboundCall) async throws(ProviderError) -> String
    /// True when a webhook request carries this provider's valid signature.
    func isAuthentic(url: String, parameters: [String: String], signature: String?) -> Bool
    /// Submits a brand; returns the provider's id for it.
    func registerBrand(_ brand: BrandRegistration) async throws(ProviderError) -> String
    /// Where a submitted brand stands.
    func brandState(_ id: String, submittedAt: Date, now: Date) async throws(ProviderError) -> RegistrationState
    /// Asks for a number in an area code; returns the provider's id for the request.
    func requestNumber(areaCode: String, tollFree: Bool) async throws(ProviderError) -> String
    /// Where a number request stands.
    func numberState(_ id: String, requestedAt: Date, now: Date) async throws(ProviderError) -> RegistrationState
    /// The bytes of media a received picture message names (the provider's own URL).
    func fetchMedia(_ url: String) async throws(ProviderError) -> [UInt8]
    /// Gives a number back to the provider (`numberRequest`: the id `requestNumber` gave), so it
    /// is no longer paid for; one the provider no longer has counts as given back.
    func releaseNumber(numberRequest: String) async throws(ProviderError)
    /// Submits a toll-free number (`numberRequest`: the id `requestNumber` gave) for verification;
    /// returns the provider's verification id.
    func verifyTollFree(numberRequest: String, _ verification: TollFreeVerification) async throws(ProviderError)
        -> String
    /// Where a toll-free verification stands.
    func tollFreeVerificationState(_ id: String, submittedAt: Date, now: Date) async throws(ProviderError)
        -> RegistrationState
}

/// Twilio-shaped webhook parameters, which the Simulator uses too.
public enum WebhookParameters {
    /// A delivery report, or nil when the parameters are not one (a segment count, when given,
    /// must be a number in `ProviderSegments.range`).
    public static func statusReport(_ parameters: [String: String]) -> StatusReport? {
        guard let id = parameters["MessageSid"] ?? parameters["SmsSid"], !id.isEmpty,
            let text = parameters["MessageStatus"] ?? parameters["SmsStatus"]
        else { return nil }
        let segmentsText = parameters["NumSegments"].flatMap { $0.isEmpty ? nil : $0 }
        let segments = ProviderSegments.parse(segmentsText)
        guard segmentsText == nil || segments != nil else { return nil }
        let status: MessageStatus
        switch text.lowercased() {
        case "accepted", "queued", "scheduled": status = .queued
        case "sending": status = .sending
        case "sent": status = .sent
        case "delivered", "read": status = .delivered
        case "undelivered": status = .undelivered
        case "failed": status = .failed
        case "canceled": status = .canceled
        default: return nil
        }
        return StatusReport(
            providerID: id,
            status: status,
            errorCode: parameters["ErrorCode"].flatMap { $0.isEmpty ? nil : $0 },
            errorMessage: parameters["ErrorMessage"],
            segments: segments
        )
    }

    /// An inbound text, or nil when the parameters are not one.
    public static func inbound(_ parameters: [String: String]) -> InboundSMS? {
        guard let id = parameters["MessageSid"] ?? parameters["SmsSid"], !id.isEmpty, let from = parameters["From"],
            !from.isEmpty,
            let to = parameters["To"], !to.isEmpty
        else { return nil }
        // NumMedia comes from outside: only 0–10 is believed, and only URLs actually given.
        let count = Int(parameters["NumMedia"] ?? "0").map { min(max($0, 0), MediaLimits.itemsPerMessage) } ?? 0
        let media = (0..<count).compactMap { parameters["MediaUrl\($0)"] }.filter { !$0.isEmpty }
        return InboundSMS(providerID: id, from: from, to: to, body: parameters["Body"] ?? "", mediaURLs: media)
    }
}
