import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `POST/GET/PATCH/DELETE /v1/webhook-endpoints`: an organisation's endpoints, the events each
/// wants, its secret (shown once, rotated with an overlap) and its event log with resend.
/// Everything here needs the permission to change settings.
public struct WebhookService: Sendable {
    let store: WebhookStore
    /// Lets endpoints be plain http or on private and loopback addresses (development, tests).
    let allowPrivateURLs: Bool
    let now: @Sendable () -> Date

    public init(store: WebhookStore, allowPrivateURLs: Bool, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.allowPrivateURLs = allowPrivateURLs
        self.now = now
    }

    /// The longest overlap of a rotated secret.
    public static let overlapHoursMax = 168
    /// The overlap when none is asked for.
    public static let overlapHoursDefault = 24

    public func create(_ principal: Principal, _ input: EndpointInput) async throws -> WebhookEndpointView {
        try principal.require(.manageSettings)
        let instant = now()
        guard let rawURL = input.url else { throw WebhookError.urlRequired }
        let url = try WebhookURL.check(rawURL, allowPrivate: allowPrivateURLs)
        let types = try WebhookService.eventTypes(input.events)
        let description = try input.description.map { try InputRules.name($0, field: "description", limit: 200) }
        let endpoint = WebhookEndpoint(
            id: Identifier.make("whe_"),
            organizationID: principal.organizationID,
            url: url,
            description: description,
            eventTypes: types,
            secret: StandardWebhooks.makeSecret(),
            enabled: input.enabled ?? true,
            at: instant
        )
        do {
            try await store.insert(
                endpoint,
                audit: principal.organizationAudit(
                    .webhookEndpointAdded,
                    "Webhook endpoint \(url) added for \(types.map(\.rawValue).joined(separator: ", ")).",
                    at: instant
                )
            )
        } catch StoreError.conflict {
            throw WebhookError.tooManyEndpoints
        }
        return WebhookEndpointView(endpoint, at: instant, revealing: true)
    }

    public func list(_ principal: Principal) async throws -> [WebhookEndpointView] {
        try principal.require(.manageSettings)
        let instant = now()
        return try await store.endpoints(of: principal.organizationID).map { WebhookEndpointView($0, at: instant) }
    }

    public func view(_ id: String, _ principal: Principal) async throws -> WebhookEndpointView {
        WebhookEndpointView(try await endpoint(id, principal), at: now())
    }

    func endpoint(_ id: String, _ principal: Principal) async throws -> WebhookEndpoint {
        try principal.require(.manageSettings)
        guard let endpoint = try await store.endpoint(id, of: principal.organizationID) else {
            throw NotFoundError("Webhook endpoint \(id)")
        }
        return endpoint
    }

    /// Changes what is given; turning an endpoint back on clears its run of failures.
    public func update(_ id: String, _ principal: Principal, _ input: EndpointInput) async throws -> WebhookEndpointView
    {
        var endpoint = try await endpoint(id, principal)
        let instant = now()
        var changes: [String] = []
        var readdressed = false
        if let url = input.url {
            let checked = try WebhookURL.check(url, allowPrivate: allowPrivateURLs)
            readdressed = checked != endpoint.url
            endpoint.url = checked
            if readdressed { changes.append("address \(endpoint.url)") }
        }
        if input.events != nil {
            endpoint.eventTypes = try WebhookService.eventTypes(input.events)
            changes.append("events \(endpoint.eventTypes.map(\.rawValue).joined(separator: ", "))")
        }
        if let description = input.description {
            endpoint.description =
                description.isEmpty ? nil : try InputRules.name(description, field: "description", limit: 200)
            changes.append("description")
        }
        var switched = false
        if let enabled = input.enabled, enabled != endpoint.enabled {
            switched = true
            endpoint.enabled = enabled
            if enabled {
                endpoint.disabledReason = nil
                endpoint.failingSince = nil
                endpoint.consecutiveFailures = 0
            }
            changes.append(enabled ? "turned on" : "turned off")
        }
        endpoint.updatedAt = instant
        try await store.save(
            endpoint,
            switched: switched,
            readdressed: readdressed,
            audit: principal.organizationAudit(
                .webhookEndpointChanged,
                "Webhook endpoint \(endpoint.url) changed: \(changes.isEmpty ? "nothing" : changes.joined(separator: "; ")).",
                at: instant
            )
        )
        return WebhookEndpointView(endpoint, at: instant)
    }

    public func delete(_ id: String, _ principal: Principal) async throws {
        let endpoint = try await endpoint(id, principal)
        let instant = now()
        guard
            try await store.delete(
                id,
                of: principal.organizationID,
                at: instant,
                audit: principal.organizationAudit(
                    .webhookEndpointRemoved,
                    "Webhook endpoint \(endpoint.url) removed.",
                    at: instant
                )
            )
        else { throw NotFoundError("Webhook endpoint \(id)") }
    }

    /// A new secret, shown once; the old one keeps signing (both signatures sent) for the overlap.
    public func rotate(_ id: String, _ principal: Principal, _ input: RotateInput) async throws -> WebhookEndpointView {
        var endpoint = try await endpoint(id, principal)
        let hours = input.overlapHours ?? WebhookService.overlapHoursDefault
        guard (0...WebhookService.overlapHoursMax).contains(hours) else { throw WebhookError.overlapOutOfRange }
        let instant = now()
        endpoint.previousSecret = hours > 0 ? endpoint.secret : nil
        endpoint.previousSecretUntil = hours > 0 ? instant.addingTimeInterval(TimeInterval(hours) * 3600) : nil
        endpoint.secret = StandardWebhooks.makeSecret()
        endpoint.updatedAt = instant
        try await store.save(
            endpoint,
            audit: principal.organizationAudit(
                .webhookSecretRotated,
                hours > 0
                    ? "Webhook endpoint \(endpoint.url)'s secret rotated; the old one keeps signing for \(hours) hours."
                    : "Webhook endpoint \(endpoint.url)'s secret rotated; the old one stopped signing at once.",
                at: instant
            )
        )
        return WebhookEndpointView(endpoint, at: instant, revealing: true)
    }

    /// An endpoint's event log, newest first.
    public func deliveries(_ id: String, _ principal: Principal, before cursor: RecencyCursor?, limit: Int)
        async throws -> (views: [WebhookDeliveryView], next: RecencyCursor?)
    {
        let endpoint = try await endpoint(id, principal)
        let deliveries = try await store.deliveries(
            of: endpoint.id,
            organization: principal.organizationID,
            before: cursor,
            limit: limit
        )
        let next =
            deliveries.count == limit
            ? deliveries.last.map { RecencyCursor(milliseconds: $0.createdAt.milliseconds, id: $0.id) } : nil
        return (deliveries.map(WebhookDeliveryView.init), next)
    }

    /// Sends a delivery again now: the same event and `webhook-id`.
    public func resend(_ delivery: String, endpoint id: String, _ principal: Principal) async throws {
        let endpoint = try await endpoint(id, principal)
        guard endpoint.enabled else { throw WebhookError.endpointOff }
        guard try await store.resend(delivery, endpoint: endpoint.id, of: principal.organizationID, at: now()) else {
            throw NotFoundError("Delivery \(delivery)")
        }
    }

    static func eventTypes(_ names: [String]?) throws(WebhookError) -> [WebhookEventType] {
        guard let names, !names.isEmpty else { throw WebhookError.eventsRequired }
        var types: Set<WebhookEventType> = []
        for name in names {
            guard let type = WebhookEventType(rawValue: name) else { throw WebhookError.unknownEvent(name) }
            types.insert(type)
        }
        return types.sorted()
    }
}

/// The body of `POST` and `PATCH /v1/webhook-endpoints`.
public struct EndpointInput: APIInput, Sendable {
    public var url: String?
    public var events: [String]?
    public var description: String?
    public var enabled: Bool?

    public init(url: String? = nil, events: [String]? = nil, description: String? = nil, enabled: Bool? = nil) {
        self.url = url
        self.events = events
        self.description = description
        self.enabled = enabled
    }

    public static let fields = JSONFields(["url", "events", "description", "enabled"])
}

/// The body of `POST /v1/webhook-endpoints/{id}/rotate-secret`.
public struct RotateInput: APIInput, Sendable {
    public var overlapHours: Int?

    public init(overlapHours: Int? = nil) { self.overlapHours = overlapHours }

    enum CodingKeys: String, CodingKey { case overlapHours = "overlap_hours" }

    public static let fields = JSONFields(["overlap_hours"])
}

/// An endpoint as the API shows it; the secret only when it was just made.
public struct WebhookEndpointView: Encodable, Sendable {
    public var id: String
    public var url: String
    public var description: String?
    public var events: [String]
    public var enabled: Bool
    public var disabledReason: String?
    public var failingSince: Date?
    public var consecutiveFailures: Int
    public var secret: String?
    public var previousSecretExpiresAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(_ endpoint: WebhookEndpoint, at instant: Date, revealing: Bool = false) {
        id = endpoint.id
        url = endpoint.url
        description = endpoint.description
        events = endpoint.eventTypes.map(\.rawValue)
        enabled = endpoint.enabled
        disabledReason = endpoint.disabledReason
        failingSince = endpoint.failingSince
        consecutiveFailures = endpoint.consecutiveFailures
        secret = revealing ? endpoint.secret : nil
        previousSecretExpiresAt = endpoint.signingSecrets(at: instant).count > 1 ? endpoint.previousSecretUntil : nil
        createdAt = endpoint.createdAt
        updatedAt = endpoint.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, url, description, events, enabled, secret
        case disabledReason = "disabled_reason"
        case failingSince = "failing_since"
        case consecutiveFailures = "consecutive_failures"
        case previousSecretExpiresAt = "previous_secret_expires_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// One event delivered (or being delivered) to an endpoint, with its tries.
public struct WebhookDeliveryView: Encodable, Sendable {
    public var id: String
    public var eventID: String
    public var type: String
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: Date?
    public var createdAt: Date
    /// The exact body every try sent.
    public var payload: String
    public var tries: [Try]

    public struct Try: Encodable, Sendable {
        public var at: Date
        public var statusCode: Int?
        public var error: String?
        public var milliseconds: Int

        enum CodingKeys: String, CodingKey {
            case at, error, milliseconds
            case statusCode = "status_code"
        }
    }

    init(_ delivery: WebhookDelivery) {
        id = delivery.id
        eventID = delivery.eventID
        type = delivery.type
        status = delivery.status.rawValue
        attempts = delivery.attempts
        nextAttemptAt = delivery.status == .pending ? delivery.nextAttemptAt : nil
        lastStatus = delivery.lastStatus
        lastError = delivery.lastError
        deliveredAt = delivery.deliveredAt
        createdAt = delivery.createdAt
        payload = delivery.body
        tries = delivery.tries.map {
            Try(at: $0.at, statusCode: $0.statusCode, error: $0.error, milliseconds: $0.milliseconds)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, type, status, attempts, payload, tries
        case eventID = "event_id"
        case nextAttemptAt = "next_attempt_at"
        case lastStatus = "last_status"
        case lastError = "last_error"
        case deliveredAt = "delivered_at"
        case createdAt = "created_at"
    }
}

/// Refusals of webhook endpoint changes.
public enum WebhookError: DomainError, Equatable {
    case urlRequired
    case urlInvalid
    case urlNotHTTPS
    case urlPrivate(String)
    case eventsRequired
    case unknownEvent(String)
    case tooManyEndpoints
    case overlapOutOfRange
    case endpointOff

    public var kind: RefusalKind {
        switch self {
        case .tooManyEndpoints, .endpointOff: .conflict
        default: .invalid
        }
    }

    public var code: String {
        switch self {
        case .urlRequired: "url_required"
        case .urlInvalid, .urlNotHTTPS, .urlPrivate: "url_invalid"
        case .eventsRequired: "events_required"
        case .unknownEvent: "event_unknown"
        case .tooManyEndpoints: "too_many_endpoints"
        case .overlapOutOfRange: "field_invalid"
        case .endpointOff: "endpoint_off"
        }
    }

    public var message: String {
        switch self {
        case .urlRequired: "Give the endpoint's address (url)."
        case .urlInvalid: "The url must be a web address such as https://example.com/webhooks."
        case .urlNotHTTPS: "The url must start with https:// so events travel encrypted."
        case .urlPrivate(let host):
            "\(host) is a private or local address; events can only be sent to an address on the internet."
        case .eventsRequired: "Choose at least one event to send (events)."
        case .unknownEvent(let name):
            "\(name) is not an event; use one of \(WebhookEventType.allCases.map(\.rawValue).joined(separator: ", "))."
        case .tooManyEndpoints: "An organisation can have at most \(WebhookStore.endpointsMax) webhook endpoints."
        case .overlapOutOfRange:
            "overlap_hours must be between 0 and \(WebhookService.overlapHoursMax) (a week)."
        case .endpointOff: "The endpoint is turned off: turn it on to send events to it again."
        }
    }

    public var field: String? {
        switch self {
        case .urlRequired, .urlInvalid, .urlNotHTTPS, .urlPrivate: "url"
        case .eventsRequired, .unknownEvent: "events"
        case .tooManyEndpoints, .endpointOff: nil
        case .overlapOutOfRange: "overlap_hours"
        }
    }
}

/// Where events may be sent: an https address on the internet, unless the operator allows plain
/// http and private or local addresses (a server inside an office network, development, tests).
/// A name that resolves to a private address later is not caught here.
enum WebhookURL {
    static func check(_ text: String, allowPrivate: Bool) throws(WebhookError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.unicodeScalars.count <= 2000, let components = URLComponents(string: trimmed),
            let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty, components.user == nil, components.password == nil,
            components.fragment == nil
        else { throw .urlInvalid }
        if allowPrivate { return trimmed }
        guard scheme == "https" else { throw .urlNotHTTPS }
        var name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        while name.hasSuffix(".") { name.removeLast() }
        // A host of digits only (2130706433), or with octal or hex parts (0177.0.0.1, 0x7f.1),
        // is an address the resolver reads as one; only the plain dotted form is checked below,
        // so the others are refused rather than let through.
        if isNumericHost(name), !isDottedQuad(name) { throw .urlInvalid }
        if name == "localhost" || name.hasSuffix(".localhost") || name.hasSuffix(".local")
            || name.hasSuffix(".internal") || isPrivate(address: name)
        {
            throw .urlPrivate(host)
        }
        return trimmed
    }

    /// Digits, dots and hex digits after 0x only: an IPv4 address in some spelling.
    static func isNumericHost(_ name: String) -> Bool {
        !name.isEmpty
            && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
                guard !part.isEmpty else { return true }
                if part.hasPrefix("0x") { return part.dropFirst(2).allSatisfy(\.isHexDigit) }
                return part.allSatisfy(\.isNumber)
            }
    }

    /// Four decimal parts 0–255 without leading zeros.
    static func isDottedQuad(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                guard let value = UInt8(part) else { return false }
                return String(value) == part
            }
    }

    /// Loopback, private, link-local, shared, multicast and unspecified IPv4 addresses, and the
    /// IPv6 ones (read by `inet_pton`, so every spelling is the same bytes), including IPv4 inside
    /// IPv6 (mapped, compatible, NAT64).
    static func isPrivate(address: String) -> Bool {
        if let v4 = ipv4(address) { return isPrivate(v4) }
        guard address.contains(":") else { return false }
        var raw = in6_addr()
        guard inet_pton(Int32(AF_INET6), address, &raw) == 1 else { return true }  // not an address: refuse
        let bytes = withUnsafeBytes(of: raw) { Array($0) }
        let embedded = Array(bytes[12..<16])
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return isPrivate(embedded)
        }
        if bytes[0..<12].allSatisfy({ $0 == 0 }) { return true }  // ::, ::1 and IPv4-compatible
        if bytes[0..<12] == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return isPrivate(embedded) }
        if bytes[0] & 0xfe == 0xfc || bytes[0] == 0xff { return true }  // unique local, multicast
        if bytes[0] == 0xfe && bytes[1] & 0x80 == 0x80 { return true }  // link-local, site-local
        return false
    }

    static func ipv4(_ address: String) -> [UInt8]? {
        var raw = in_addr()
        guard inet_pton(Int32(AF_INET), address, &raw) == 1 else { return nil }
        return withUnsafeBytes(of: raw) { Array($0) }
    }

    static func isPrivate(_ octets: [UInt8]) -> Bool {
        let (a, b) = (octets[0], octets[1])
        return a == 0 || a == 10 || a == 127 || (a == 169 && b == 254) || (a == 172 && (16...31).contains(b))
            || (a == 192 && b == 168) || (a == 100 && (64...127).contains(b)) || a >= 224
    }
}
