import CreditsCore
import Foundation
import SQLKit

/// An organisation's webhook endpoint.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var organizationID: OrganizationID
    public var url: String
    public var description: String?
    /// The events it wants, sorted.
    public var eventTypes: [WebhookEventType]
    public var secret: String
    /// The secret before the last rotation, still signing until `previousSecretUntil`.
    public var previousSecret: String?
    public var previousSecretUntil: Date?
    public var enabled: Bool
    /// Why the server turned it off, when it did.
    public var disabledReason: String?
    public var failingSince: Date?
    public var consecutiveFailures: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String,
        organizationID: OrganizationID,
        url: String,
        description: String?,
        eventTypes: [WebhookEventType],
        secret: String,
        enabled: Bool,
        at instant: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.url = url
        self.description = description
        self.eventTypes = eventTypes
        self.secret = secret
        self.previousSecret = nil
        self.previousSecretUntil = nil
        self.enabled = enabled
        self.disabledReason = nil
        self.failingSince = nil
        self.consecutiveFailures = 0
        self.createdAt = instant
        self.updatedAt = instant
    }

    /// The secrets that sign at `instant`: the current one, and the previous one during its overlap.
    public func signingSecrets(at instant: Date) -> [String] {
        guard let previousSecret, let until = previousSecretUntil, until > instant else { return [secret] }
        return [secret, previousSecret]
    }
}

/// Where a delivery stands.
public enum WebhookDeliveryStatus: String, Sendable, Codable {
    /// Waiting for its next try.
    case pending
    /// The endpoint answered 2xx.
    case delivered
    /// Tried for the whole horizon without success.
    case failed
}

/// One try to deliver.
public struct WebhookAttempt: Sendable, Equatable {
    public var at: Date
    public var statusCode: Int?
    public var error: String?
    public var milliseconds: Int
}

/// An event as delivered to one endpoint, with its tries.
public struct WebhookDelivery: Sendable, Equatable {
    public var id: String
    public var eventID: String
    public var endpointID: String
    public var type: String
    public var body: String
    public var status: WebhookDeliveryStatus
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: Date?
    public var createdAt: Date
    public var tries: [WebhookAttempt]
}

/// A delivery that is due, with what it takes to send it.
public struct DueDelivery: Sendable {
    public var id: String
    public var endpointID: String
    public var organizationID: OrganizationID
    public var eventID: String
    public var eventAt: Date
    public var body: String
    public var url: String
    public var secrets: [String]
    /// Tries before this one.
    public var attempts: Int
}

/// What became of a due delivery's try, to record.
public struct DeliveryOutcome: Sendable {
    public var delivery: DueDelivery
    public var at: Date
    public var statusCode: Int?
    public var error: String?
    public var milliseconds: Int
    public var succeeded: Bool
    /// When to try again; nil after a success or when the event is past its horizon.
    public var nextAttemptAt: Date?
    /// False when it was not tried (its endpoint was unreachable a moment before): it only waits.
    public var attempted: Bool

    public init(
        delivery: DueDelivery,
        at: Date,
        statusCode: Int?,
        error: String?,
        milliseconds: Int,
        succeeded: Bool,
        nextAttemptAt: Date?,
        attempted: Bool = true
    ) {
        self.attempted = attempted
        self.delivery = delivery
        self.at = at
        self.statusCode = statusCode
        self.error = error
        self.milliseconds = milliseconds
        self.succeeded = succeeded
        self.nextAttemptAt = nextAttemptAt
    }
}

/// How an organisation's credits stand, for `credits.low` and `credits.exhausted` (told once per crossing).
public enum CreditLevel: String, Sendable {
    case ok
    case low
    case exhausted
}

/// A consent change as `contact.opted_in` / `contact.opted_out` tell it.
struct ConsentEventData: Encodable {
    var phone: String
    var consent: String
    var source: String
    var byRecipient: Bool

    enum CodingKeys: String, CodingKey {
        case phone, consent, source
        case byRecipient = "by_recipient"
    }
}

/// Webhook endpoints, the event outbox and its deliveries.
public struct WebhookStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Most endpoints an organisation may have.
    public static let endpointsMax = 20

    static let endpointColumns = """
        id, organization_id, url, description, event_types, secret, previous_secret, previous_secret_until, enabled,
        disabled_reason, failing_since, consecutive_failures, created_at, updated_at
        """

    static func endpoint(_ row: any SQLRow) throws -> WebhookEndpoint {
        var endpoint = WebhookEndpoint(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            url: try row.value("url"),
            description: try row.optional("description"),
            eventTypes: try row.value("event_types", as: String.self).split(separator: " ")
                .compactMap { WebhookEventType(rawValue: String($0)) },
            secret: try row.value("secret"),
            enabled: try row.value("enabled", as: Int.self) == 1,
            at: try row.date("created_at")
        )
        endpoint.previousSecret = try row.optional("previous_secret")
        endpoint.previousSecretUntil = try row.optionalDate("previous_secret_until")
        endpoint.disabledReason = try row.optional("disabled_reason")
        endpoint.failingSince = try row.optionalDate("failing_since")
        endpoint.consecutiveFailures = try row.value("consecutive_failures")
        endpoint.updatedAt = try row.date("updated_at")
        return endpoint
    }

    // MARK: Endpoints

    /// Adds an endpoint with its audit entry; refuses (`StoreError.conflict`) past `endpointsMax`.
    public func insert(_ endpoint: WebhookEndpoint, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            try await database.lockOrganization(endpoint.organizationID.rawValue, on: sql)
            let count =
                try await sql.raw(
                    """
                    SELECT COUNT(*) AS n FROM webhook_endpoints
                    WHERE organization_id = \(bind: endpoint.organizationID.rawValue) AND deleted_at IS NULL
                    """
                ).first()?.value("n", as: Int.self) ?? 0
            guard count < WebhookStore.endpointsMax else {
                throw StoreError.conflict(
                    "an organisation may have at most \(WebhookStore.endpointsMax) webhook endpoints"
                )
            }
            try await sql.raw(
                """
                INSERT INTO webhook_endpoints (\(unsafeRaw: WebhookStore.endpointColumns))
                VALUES (\(bind: endpoint.id), \(bind: endpoint.organizationID.rawValue), \(bind: endpoint.url),
                        \(bind: endpoint.description), \(bind: WebhookStore.types(endpoint.eventTypes)), \(bind: endpoint.secret),
                        NULL, NULL, \(bind: endpoint.enabled ? 1 : 0), NULL, NULL, 0,
                        \(bind: endpoint.createdAt.milliseconds), \(bind: endpoint.updatedAt.milliseconds))
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    static func types(_ types: [WebhookEventType]) -> String { types.map(\.rawValue).sorted().joined(separator: " ") }

    /// Saves what staff change — the address, description, events and secrets, and when
    /// `switched`, whether it is on (turning it on clears its run of failures and any pause) —
    /// with its audit entry. Columns the delivery job writes are left alone otherwise, so an edit
    /// never undoes a turn-off it did not see. A new address or turning it on sends its waiting
    /// events at once.
    public func save(_ endpoint: WebhookEndpoint, switched: Bool = false, readdressed: Bool = false, audit: AuditRecord)
        async throws
    {
        try await database.transaction { sql in
            var query: SQLQueryString = """
                UPDATE webhook_endpoints SET url = \(bind: endpoint.url), description = \(bind: endpoint.description),
                    event_types = \(bind: WebhookStore.types(endpoint.eventTypes)), secret = \(bind: endpoint.secret),
                    previous_secret = \(bind: endpoint.previousSecret), previous_secret_until = \(bind: endpoint.previousSecretUntil?.milliseconds),
                    updated_at = \(bind: endpoint.updatedAt.milliseconds)
                """
            if switched {
                query =
                    query + """
                        , enabled = \(bind: endpoint.enabled ? 1 : 0), disabled_reason = NULL, failing_since = NULL,
                        consecutive_failures = 0, paused_until = NULL
                        """
            } else if readdressed {
                query = query + ", paused_until = NULL"
            }
            query =
                query
                + " WHERE id = \(bind: endpoint.id) AND organization_id = \(bind: endpoint.organizationID.rawValue) AND deleted_at IS NULL"
            try await sql.raw(query).run()
            if (switched && endpoint.enabled) || readdressed {
                try await sql.raw(
                    """
                    UPDATE webhook_deliveries SET next_attempt_at = \(bind: endpoint.updatedAt.milliseconds)
                    WHERE endpoint_id = \(bind: endpoint.id) AND status = 'pending'
                      AND next_attempt_at > \(bind: endpoint.updatedAt.milliseconds)
                    """
                ).run()
            }
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// Removes an endpoint (its deliveries stop; its log is kept); false when there is none.
    public func delete(_ id: String, of organization: OrganizationID, at instant: Date, audit: AuditRecord)
        async throws -> Bool
    {
        try await database.transaction { sql in
            let deleted = try await sql.raw(
                """
                UPDATE webhook_endpoints SET deleted_at = \(bind: instant.milliseconds), enabled = 0, updated_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue) AND deleted_at IS NULL
                RETURNING id
                """
            ).all()
            guard !deleted.isEmpty else { return false }
            try await AuditStore.insert([audit], on: sql)
            return true
        }
    }

    public func endpoint(_ id: String, of organization: OrganizationID) async throws -> WebhookEndpoint? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: WebhookStore.endpointColumns) FROM webhook_endpoints
                WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue) AND deleted_at IS NULL
                """
            ).first().map(WebhookStore.endpoint)
        }
    }

    public func endpoints(of organization: OrganizationID) async throws -> [WebhookEndpoint] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: WebhookStore.endpointColumns) FROM webhook_endpoints
                WHERE organization_id = \(bind: organization.rawValue) AND deleted_at IS NULL ORDER BY created_at, id
                """
            ).all().map(WebhookStore.endpoint)
        }
    }

    // MARK: The outbox

    /// The enabled endpoints of these organisations and the events each wants, read in the
    /// caller's unit of work (so an endpoint added after the change does not get it).
    public static func subscribers(of organizations: Set<OrganizationID>, in work: UnitOfWork) async throws
        -> [OrganizationID: [(id: String, types: Set<WebhookEventType>)]]
    {
        try await subscribers(of: organizations, on: work.sql)
    }

    /// Writes the events `make` returns that an enabled endpoint of their organisation wants,
    /// each with one delivery per such endpoint, in the caller's transaction: they commit with the
    /// change they tell of, or not at all. `make` runs only when one of the organisations has an
    /// endpoint, so with none the cost is one indexed read.
    public static func emit(
        for organizations: Set<OrganizationID>,
        in work: UnitOfWork,
        _ make: () throws -> [WebhookEvent]
    ) async throws {
        try await emit(for: organizations, on: work.sql, make)
    }

    static func emit(
        for organizations: Set<OrganizationID>,
        on sql: any SQLDatabase,
        _ make: () throws -> [WebhookEvent]
    ) async throws {
        let subscribers = try await subscribers(of: organizations, on: sql)
        guard !subscribers.isEmpty else { return }
        var events: [WebhookEvent] = []
        var deliveries: [(event: String, endpoint: String)] = []
        for event in try make() {
            let wanting = (subscribers[event.organization] ?? []).filter { $0.types.contains(event.type) }
            guard !wanting.isEmpty else { continue }
            events.append(event)
            deliveries += wanting.map { (event.id, $0.id) }
        }
        try await insert(events, deliveries: deliveries, on: sql)
    }

    /// Writes one event made beforehand (a store's own transaction tells of its change).
    static func emit(_ event: WebhookEvent?, on sql: any SQLDatabase) async throws {
        guard let event else { return }
        try await emit(for: [event.organization], on: sql) { [event] }
    }

    /// Whether any organisation has an enabled endpoint (a batch of work skips reading what an
    /// event would tell when none has).
    public static func anyEnabled(in work: UnitOfWork) async throws -> Bool {
        try await work.sql.raw("SELECT id FROM webhook_endpoints WHERE enabled = 1 AND deleted_at IS NULL LIMIT 1")
            .first() != nil
    }

    static func subscribers(of organizations: Set<OrganizationID>, on sql: any SQLDatabase) async throws
        -> [OrganizationID: [(id: String, types: Set<WebhookEventType>)]]
    {
        guard !organizations.isEmpty else { return [:] }
        var found: [OrganizationID: [(id: String, types: Set<WebhookEventType>)]] = [:]
        for chunk in organizations.map(\.rawValue).sorted().inListChunks {
            for row in try await sql.raw(
                """
                SELECT id, organization_id, event_types FROM webhook_endpoints
                WHERE \(chunk.sqlMembership("organization_id", for: sql)) AND enabled = 1 AND deleted_at IS NULL
                """
            ).all() {
                let types = Set(
                    try row.value("event_types", as: String.self).split(separator: " ")
                        .compactMap { WebhookEventType(rawValue: String($0)) }
                )
                found[OrganizationID(try row.value("organization_id")), default: []].append(
                    (try row.value("id"), types)
                )
            }
        }
        return found
    }

    struct DeliveryRow {
        var id: String
        var eventID: String
        var endpointID: String
        var organization: String
        var at: Int64
    }

    static let eventRows = BulkTable<WebhookEvent>(
        name: "webhook_events",
        columns: [
            .text("id") { $0.id }, .text("organization_id") { $0.organization.rawValue },
            .text("type") { $0.type.rawValue }, .text("body") { $0.body }, .bigint("created_at") { $0.at.milliseconds },
        ]
    )

    static let deliveryRows = BulkTable<DeliveryRow>(
        name: "webhook_deliveries",
        columns: [
            .text("id") { $0.id }, .text("event_id") { $0.eventID }, .text("endpoint_id") { $0.endpointID },
            .text("organization_id") { $0.organization }, .text("status") { _ in "pending" },
            .bigint("next_attempt_at") { $0.at }, .bigint("created_at") { $0.at }, .bigint("updated_at") { $0.at },
        ]
    )

    /// Writes events and one pending delivery per endpoint given.
    static func insert(
        _ events: [WebhookEvent],
        deliveries: [(event: String, endpoint: String)],
        on sql: any SQLDatabase
    ) async throws {
        guard !events.isEmpty else { return }
        try await BulkRows.insert(sql, into: eventRows, rows: events)
        let byID = Dictionary(events.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = deliveries.compactMap { pair -> DeliveryRow? in
            guard let event = byID[pair.event] else { return nil }
            return DeliveryRow(
                id: Identifier.make("whd_"),
                eventID: event.id,
                endpointID: pair.endpoint,
                organization: event.organization.rawValue,
                at: event.at.milliseconds
            )
        }
        try await BulkRows.insert(sql, into: deliveryRows, rows: rows)
    }

    // MARK: Delivery

    /// Claims up to `limit` due deliveries of enabled endpoints, leased until `leaseUntil` (a
    /// worker that dies leaves them to be claimed again after the lease).
    public func claimDue(limit: Int, perEndpoint: Int = 32, now: Date, leaseUntil: Date) async throws -> [DueDelivery] {
        let skipLocked = database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let at = now.milliseconds
        // Endpoints with something due and no pass of another worker under way (its leased rows).
        @Sendable func dueEndpoints(_ lock: String) -> SQLQueryString {
            """
            SELECT e.id FROM webhook_endpoints e
            WHERE e.enabled = 1 AND e.deleted_at IS NULL AND (e.paused_until IS NULL OR e.paused_until <= \(bind: at))
              AND EXISTS (SELECT 1 FROM webhook_deliveries x
                          WHERE x.endpoint_id = e.id AND x.status = 'pending' AND x.next_attempt_at <= \(bind: at)
                            AND (x.lease_until IS NULL OR x.lease_until < \(bind: at)))
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries y
                              WHERE y.endpoint_id = e.id AND y.status = 'pending' AND y.lease_until >= \(bind: at))\(unsafeRaw: lock)
            """
        }
        // Most polls find nothing due: asking a read connection first keeps them off the write lock.
        guard try await database.anyRow(dueEndpoints(" LIMIT 1")) else { return [] }
        return try await database.transaction { sql in
            // The same endpoints again under the lock, locked so two workers never serve one
            // endpoint at once (PostgreSQL: FOR NO KEY UPDATE, which leaves the KEY SHARE of new
            // deliveries' foreign key alone; SQLite holds its one write lock). The longest-waiting
            // first, at most `perEndpoint` each: a busy or failing endpoint never keeps the
            // others' events waiting.
            let lockEndpoints = database.dialect == .postgres ? " FOR NO KEY UPDATE OF e SKIP LOCKED" : ""
            let candidates: [String] = try await sql.raw(dueEndpoints(lockEndpoints)).all().map { try $0.value("id") }
            guard !candidates.isEmpty else { return [] }
            let endpoints: [String] = try await sql.raw(
                """
                SELECT endpoint_id, MIN(next_attempt_at) AS oldest FROM webhook_deliveries
                WHERE \(candidates.sqlMembership("endpoint_id", for: sql)) AND status = 'pending' AND next_attempt_at <= \(bind: at)
                GROUP BY endpoint_id
                """
            ).all().map { (try $0.value("endpoint_id", as: String.self), try $0.value("oldest", as: Int64.self)) }
                .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
            var ids: [String] = []
            for endpoint in endpoints where ids.count < limit {
                ids += try await sql.raw(
                    """
                    UPDATE webhook_deliveries SET lease_until = \(bind: leaseUntil.milliseconds)
                    WHERE id IN (SELECT id FROM webhook_deliveries
                                 WHERE endpoint_id = \(bind: endpoint) AND status = 'pending' AND next_attempt_at <= \(bind: at)
                                   AND (lease_until IS NULL OR lease_until < \(bind: at))
                                 ORDER BY next_attempt_at LIMIT \(bind: min(perEndpoint, limit - ids.count))\(unsafeRaw: skipLocked))
                    RETURNING id
                    """
                ).all().map { try $0.value("id") }
            }
            guard !ids.isEmpty else { return [] }
            return try await sql.raw(
                """
                SELECT d.id, d.endpoint_id, d.organization_id, d.event_id, d.attempts, v.created_at AS event_at, v.body,
                       e.url, e.secret, e.previous_secret, e.previous_secret_until
                FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
                WHERE \(ids.sqlMembership("d.id", for: sql)) ORDER BY d.next_attempt_at, d.id
                """
            ).all().map { row in
                var secrets = [try row.value("secret", as: String.self)]
                if let previous = try row.optional("previous_secret", as: String.self),
                    let until = try row.optionalDate("previous_secret_until"), until > now
                {
                    secrets.append(previous)
                }
                return DueDelivery(
                    id: try row.value("id"),
                    endpointID: try row.value("endpoint_id"),
                    organizationID: OrganizationID(try row.value("organization_id")),
                    eventID: try row.value("event_id"),
                    eventAt: try row.date("event_at"),
                    body: try row.value("body"),
                    url: try row.value("url"),
                    secrets: secrets,
                    attempts: try row.value("attempts")
                )
            }
        }
    }

    /// Records tries: each attempt is logged, each delivery becomes delivered, pending again or
    /// failed, and each endpoint's run of failures is counted (reset by a success). Returns the
    /// endpoints as they stand after, for the caller to decide whether any is to be turned off.
    public func record(_ outcomes: [DeliveryOutcome]) async throws -> [WebhookEndpoint] {
        guard !outcomes.isEmpty else { return [] }
        return try await database.transaction { sql in
            for outcome in outcomes where !outcome.attempted {
                try await sql.raw(
                    """
                    UPDATE webhook_deliveries SET next_attempt_at = \(bind: outcome.nextAttemptAt?.milliseconds ?? outcome.at.milliseconds),
                        lease_until = NULL
                    WHERE id = \(bind: outcome.delivery.id)
                    """
                ).run()
            }
            let outcomes = outcomes.filter(\.attempted)
            guard !outcomes.isEmpty else { return [] }
            for outcome in outcomes {
                let at = outcome.at.milliseconds
                let status: WebhookDeliveryStatus =
                    outcome.succeeded ? .delivered : outcome.nextAttemptAt == nil ? .failed : .pending
                try await sql.raw(
                    """
                    INSERT INTO webhook_attempts (delivery_id, at, status_code, error, milliseconds)
                    VALUES (\(bind: outcome.delivery.id), \(bind: at), \(bind: outcome.statusCode), \(bind: outcome.error),
                            \(bind: outcome.milliseconds))
                    """
                ).run()
                try await sql.raw(
                    """
                    UPDATE webhook_deliveries SET status = \(bind: status.rawValue), attempts = attempts + 1,
                        next_attempt_at = \(bind: outcome.nextAttemptAt?.milliseconds), lease_until = NULL,
                        last_status = \(bind: outcome.statusCode), last_error = \(bind: outcome.error),
                        delivered_at = \(bind: outcome.succeeded ? at : nil as Int64?), updated_at = \(bind: at)
                    WHERE id = \(bind: outcome.delivery.id)
                    """
                ).run()
            }
            var endpoints: Set<String> = []
            for (endpoint, tries) in Dictionary(grouping: outcomes, by: \.delivery.endpointID).sorted(by: {
                $0.key < $1.key
            }) {
                endpoints.insert(endpoint)
                let ordered = tries.sorted { $0.at < $1.at }
                // Nobody answered its last try: nothing more is sent to it until that try's next
                // time, new events included; an answer of any kind lifts the pause.
                let last = ordered[ordered.count - 1]
                let pausedUntil = last.statusCode == nil && !last.succeeded ? last.nextAttemptAt?.milliseconds : nil
                try await sql.raw(
                    "UPDATE webhook_endpoints SET paused_until = \(bind: pausedUntil) WHERE id = \(bind: endpoint)"
                ).run()
                // A success resets the run; failures after the last success extend it.
                let lastSuccess = ordered.lastIndex(where: \.succeeded)
                let failuresAfter = ordered.count - (lastSuccess.map { $0 + 1 } ?? 0)
                let firstFailureAfter = ordered[(lastSuccess.map { $0 + 1 } ?? 0)...].first?.at
                if lastSuccess != nil {
                    try await sql.raw(
                        """
                        UPDATE webhook_endpoints SET consecutive_failures = \(bind: failuresAfter),
                            failing_since = \(bind: firstFailureAfter?.milliseconds)
                        WHERE id = \(bind: endpoint)
                        """
                    ).run()
                } else {
                    try await sql.raw(
                        """
                        UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + \(bind: failuresAfter),
                            failing_since = COALESCE(failing_since, \(bind: firstFailureAfter?.milliseconds))
                        WHERE id = \(bind: endpoint)
                        """
                    ).run()
                }
            }
            return try await sql.raw(
                """
                SELECT \(unsafeRaw: WebhookStore.endpointColumns) FROM webhook_endpoints
                WHERE \(Array(endpoints).sorted().sqlMembership("id", for: sql))
                """
            ).all().map(WebhookStore.endpoint)
        }
    }

    /// Turns an endpoint off after its failures, with the notices to its owners, unless someone
    /// changed it meanwhile; true when this call turned it off.
    public func disable(
        _ endpoint: WebhookEndpoint,
        reason: String,
        notices: [Mail],
        audit: AuditRecord,
        at instant: Date
    ) async throws -> Bool {
        try await database.transaction { sql in
            let changed = try await sql.raw(
                """
                UPDATE webhook_endpoints SET enabled = 0, disabled_reason = \(bind: reason), updated_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: endpoint.id) AND enabled = 1 AND deleted_at IS NULL
                RETURNING id
                """
            ).all()
            guard !changed.isEmpty else { return false }
            for notice in notices { try await MailStore.insert(notice, on: sql) }
            try await AuditStore.insert([audit], on: sql)
            return true
        }
    }

    /// Puts a delivery of the organisation's back in line to be sent now (the same event, the
    /// same `webhook-id`); false when there is none.
    public func resend(_ delivery: String, endpoint: String, of organization: OrganizationID, at instant: Date)
        async throws -> Bool
    {
        try await database.transaction { sql in
            let found = try await !sql.raw(
                """
                UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = \(bind: instant.milliseconds),
                    lease_until = NULL, updated_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: delivery) AND endpoint_id = \(bind: endpoint) AND organization_id = \(bind: organization.rawValue)
                RETURNING id
                """
            ).all().isEmpty
            // Asked for now: a pause after an unanswered try does not hold it back.
            if found {
                try await sql.raw("UPDATE webhook_endpoints SET paused_until = NULL WHERE id = \(bind: endpoint)").run()
            }
            return found
        }
    }

    /// An endpoint's deliveries, newest first, each with its tries.
    public func deliveries(
        of endpoint: String,
        organization: OrganizationID,
        before cursor: RecencyCursor?,
        limit: Int
    ) async throws -> [WebhookDelivery] {
        try await database.read { sql in
            var query: SQLQueryString = """
                SELECT d.id, d.event_id, d.endpoint_id, v.type, v.body, d.status, d.attempts, d.next_attempt_at, d.last_status,
                       d.last_error, d.delivered_at, d.created_at
                FROM webhook_deliveries d JOIN webhook_events v ON v.id = d.event_id
                WHERE d.endpoint_id = \(bind: endpoint) AND d.organization_id = \(bind: organization.rawValue)
                """
            if let cursor { query = query + cursor.condition(instant: "d.created_at", id: "d.id") }
            query = query + " ORDER BY d.created_at DESC, d.id DESC LIMIT \(bind: limit)"
            var deliveries = try await sql.raw(query).all().map { row in
                WebhookDelivery(
                    id: try row.value("id"),
                    eventID: try row.value("event_id"),
                    endpointID: try row.value("endpoint_id"),
                    type: try row.value("type"),
                    body: try row.value("body"),
                    status: WebhookDeliveryStatus(rawValue: try row.value("status")) ?? .pending,
                    attempts: try row.value("attempts"),
                    nextAttemptAt: try row.optionalDate("next_attempt_at"),
                    lastStatus: try row.optional("last_status"),
                    lastError: try row.optional("last_error"),
                    deliveredAt: try row.optionalDate("delivered_at"),
                    createdAt: try row.date("created_at"),
                    tries: []
                )
            }
            guard !deliveries.isEmpty else { return [] }
            var tries: [String: [WebhookAttempt]] = [:]
            for row in try await sql.raw(
                """
                SELECT delivery_id, at, status_code, error, milliseconds FROM webhook_attempts
                WHERE \(deliveries.map(\.id).sqlMembership("delivery_id", for: sql)) ORDER BY id
                """
            ).all() {
                tries[try row.value("delivery_id"), default: []].append(
                    WebhookAttempt(
                        at: try row.date("at"),
                        statusCode: try row.optional("status_code"),
                        error: try row.optional("error"),
                        milliseconds: try row.value("milliseconds")
                    )
                )
            }
            for index in deliveries.indices { deliveries[index].tries = tries[deliveries[index].id] ?? [] }
            return deliveries
        }
    }

    /// How many deliveries to an endpoint wait.
    public func pendingCount(endpoint: String) async throws -> Int {
        try await database.read { sql in
            try await sql.raw(
                "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = \(bind: endpoint) AND status = 'pending'"
            ).first()?.value("n", as: Int.self) ?? 0
        }
    }

    // MARK: Credit levels

    /// The organisation's credit level as last told (nil before the first time).
    public func creditLevel(of organization: OrganizationID) async throws -> CreditLevel? {
        try await database.read { sql in
            try await sql.raw(
                "SELECT level FROM webhook_credit_levels WHERE organization_id = \(bind: organization.rawValue)"
            ).first().map { CreditLevel(rawValue: try $0.value("level")) ?? .ok }
        }
    }

    /// Moves the organisation's credit level from `before` (as read) to `level`, in the caller's
    /// unit of work; false when another process moved it first. Only this row is locked, never
    /// the organisation, so sends and settlement are not kept waiting.
    public static func changeCreditLevel(
        of organization: OrganizationID,
        from before: CreditLevel?,
        to level: CreditLevel,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> Bool {
        let query: SQLQueryString =
            before == nil
            ? """
            INSERT INTO webhook_credit_levels (organization_id, level, changed_at)
            VALUES (\(bind: organization.rawValue), \(bind: level.rawValue), \(bind: instant.milliseconds))
            ON CONFLICT (organization_id) DO NOTHING RETURNING organization_id
            """
            : """
            UPDATE webhook_credit_levels SET level = \(bind: level.rawValue), changed_at = \(bind: instant.milliseconds)
            WHERE organization_id = \(bind: organization.rawValue) AND level = \(bind: before?.rawValue)
            RETURNING organization_id
            """
        return try await !work.sql.raw(query).all().isEmpty
    }
}
