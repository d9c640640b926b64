import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Logging
import Metrics

/// Delivers the outbox: claims due deliveries, posts each signed (Standard Webhooks) to its
/// endpoint, and records the try — delivered on a 2xx, else tried again later by `WebhookRetry`
/// until the event is three days old. Each endpoint's events go one after another, in order;
/// endpoints are served side by side, so one slow endpoint never holds up another, and this job
/// is apart from sending, so no endpoint slows a send. When an endpoint cannot be reached, its
/// other events claimed in the same pass wait for its next try instead of each timing out. An
/// endpoint that fails every try for the whole horizon is turned off and its owners told.
public struct WebhookDispatcher: Sendable {
    let store: WebhookStore
    let organizations: OrganizationStore
    let sender: any WebhookSender
    let newMailStatus: MailStatus
    let now: @Sendable () -> Date
    let jitter: @Sendable () -> Double
    /// The wall clock `webhook-timestamp` is read from: receivers compare it with theirs.
    let wallClock: @Sendable () -> Date
    let logger: Logger

    public init(
        store: WebhookStore,
        organizations: OrganizationStore,
        sender: any WebhookSender,
        newMailStatus: MailStatus,
        now: @escaping @Sendable () -> Date,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        wallClock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.wallClock = wallClock
        self.store = store
        self.organizations = organizations
        self.sender = sender
        self.newMailStatus = newMailStatus
        self.now = now
        self.jitter = jitter
        self.logger = logger
    }

    /// How long a claimed delivery is kept from other workers.
    static let lease: TimeInterval = 300

    /// One pass: up to `limit` due deliveries. Returns how many were claimed.
    @discardableResult
    public func runOnce(limit: Int = 256) async throws -> Int {
        let instant = now()
        let due = try await store.claimDue(
            limit: limit,
            now: instant,
            leaseUntil: instant.addingTimeInterval(Self.lease)
        )
        guard !due.isEmpty else { return 0 }
        let byEndpoint = Dictionary(grouping: due, by: \.endpointID)
        let deadline = ContinuousClock.now + Self.passTime
        let outcomes = await withTaskGroup(of: [DeliveryOutcome].self) { group in
            for (_, deliveries) in byEndpoint {
                group.addTask { await self.deliver(deliveries, until: deadline) }
            }
            var all: [DeliveryOutcome] = []
            for await outcomes in group { all += outcomes }
            return all
        }
        let endpoints = try await store.record(outcomes)
        for outcome in outcomes where outcome.attempted {
            let label =
                outcome.succeeded ? "delivered" : outcome.nextAttemptAt == nil ? "failed" : "retrying"
            Counter(label: "textcredits_webhook_deliveries_total", dimensions: [("outcome", label)]).increment()
        }
        for endpoint in endpoints where endpoint.enabled {
            guard let since = endpoint.failingSince,
                WebhookRetry.shouldDisable(consecutive: endpoint.consecutiveFailures, failingSince: since, at: now())
            else { continue }
            try await disable(endpoint)
        }
        return due.count
    }

    /// How long one pass sends to an endpoint before it lets the next pass begin: a slow
    /// endpoint's remaining events go back in line, so the others' wait is bounded.
    static let passTime: Duration = .seconds(10)

    /// One endpoint's deliveries, in order. After a try that reached nobody, the rest wait for
    /// the same next try; past `deadline` they go back in line (neither counts as a try).
    func deliver(_ deliveries: [DueDelivery], until deadline: ContinuousClock.Instant) async -> [DeliveryOutcome] {
        var outcomes: [DeliveryOutcome] = []
        var unreachableUntil: Date?
        for delivery in deliveries.sorted(by: { ($0.eventAt, $0.id) < ($1.eventAt, $1.id) }) {
            if unreachableUntil == nil, ContinuousClock.now >= deadline { unreachableUntil = now() }
            if let until = unreachableUntil {
                outcomes.append(
                    DeliveryOutcome(
                        delivery: delivery,
                        at: now(),
                        statusCode: nil,
                        error: nil,
                        milliseconds: 0,
                        succeeded: false,
                        nextAttemptAt: until,
                        attempted: false
                    )
                )
                continue
            }
            let at = now()
            let timestamp = Int64(wallClock().timeIntervalSince1970.rounded(.down))
            let result = await sender.send(
                url: delivery.url,
                headers: StandardWebhooks.headers(
                    id: delivery.eventID,
                    timestamp: timestamp,
                    body: delivery.body,
                    secrets: delivery.secrets
                ),
                body: delivery.body
            )
            let next =
                result.succeeded
                ? nil
                : WebhookRetry.next(
                    afterFailures: delivery.attempts + 1,
                    at: now(),
                    eventAt: delivery.eventAt,
                    jitter: jitter()
                )
            outcomes.append(
                DeliveryOutcome(
                    delivery: delivery,
                    at: at,
                    statusCode: result.status,
                    error: result.error,
                    milliseconds: result.milliseconds,
                    succeeded: result.succeeded,
                    nextAttemptAt: next
                )
            )
            if result.status == nil { unreachableUntil = next ?? now().addingTimeInterval(WebhookRetry.first) }
        }
        return outcomes
    }

    /// Turns the endpoint off and mails its organisation's owners.
    func disable(_ endpoint: WebhookEndpoint) async throws {
        let instant = now()
        let reason =
            "Every delivery failed for \(Int(WebhookRetry.failingToDisable / 86400)) days (\(endpoint.consecutiveFailures) tries in a row), so the server stopped sending to it."
        let owners = try await organizations.staff(of: endpoint.organizationID).filter { $0.role == .owner }
        let notices = owners.map { owner in
            Mail(
                id: Identifier.make("mail_"),
                organizationID: endpoint.organizationID,
                kind: .webhookDisabled,
                to: owner.email,
                subject: "A webhook endpoint was turned off",
                body: """
                    Hello \(owner.name),

                    TextCredits could not deliver events to your webhook endpoint \(endpoint.url).
                    \(reason)

                    Events that happen while it is off are not kept for it. When the endpoint works again, turn it
                    back on under SETTINGS > Webhooks (or PATCH /v1/webhook-endpoints/\(endpoint.id) with
                    {"enabled": true}); its event log shows each try and can send an event again.
                    """,
                status: newMailStatus,
                createdAt: instant
            )
        }
        let turnedOff = try await store.disable(
            endpoint,
            reason: reason,
            notices: notices,
            audit: AuditRecord(
                organization: endpoint.organizationID,
                actor: .system,
                action: .webhookEndpointDisabled,
                message: AuditText("Webhook endpoint \(endpoint.url) turned off: \(reason)"),
                subjectType: "webhook_endpoint",
                subjectID: endpoint.id,
                at: instant
            ),
            at: instant
        )
        if turnedOff {
            logger.warning(
                "webhook endpoint turned off",
                metadata: ["endpoint": "\(endpoint.id)", "organization": "\(endpoint.organizationID)"]
            )
        }
    }
}

/// Tells `credits.low` and `credits.exhausted` once per crossing, when a pool's balance moves.
/// Only organisations with an endpoint that wants them are watched, and nothing is written while
/// the level stays where it was, so a send pays one read for it.
public struct WebhookCreditWatch: Sendable {
    let database: any Database
    let store: WebhookStore
    let credits: CreditService
    let now: @Sendable () -> Date
    let logger: Logger

    /// Below this many credits available the pool is low.
    public static let lowThreshold = Credits(credits: 100)

    public init(
        database: any Database,
        store: WebhookStore,
        credits: CreditService,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.database = database
        self.store = store
        self.credits = credits
        self.now = now
        self.logger = logger
    }

    public func handle(_ fact: Fact) async {
        guard case .balanceChanged(let change) = fact, change.isPool else { return }
        do {
            try await check(change.organization, pool: change.account)
        } catch {
            logger.error(
                "credit level event failed",
                metadata: ["organization": "\(change.organization)", "error": "\(String(reflecting: error))"]
            )
        }
    }

    func check(_ organization: OrganizationID, pool: AccountID) async throws {
        let watched: Set<WebhookEventType> = [.creditsLow, .creditsExhausted]
        guard
            try await store.endpoints(of: organization).contains(where: {
                $0.enabled && !watched.isDisjoint(with: $0.eventTypes)
            })
        else { return }
        guard let account = try await credits.account(pool, of: organization) else { return }
        let level: CreditLevel =
            account.available <= .zero ? .exhausted : account.available < Self.lowThreshold ? .low : .ok
        // Only reads until the level moves (never stored counts as ok), so the request whose
        // balance change this is writes nothing and waits for no lock.
        let before = try await store.creditLevel(of: organization)
        guard (before ?? .ok) != level else { return }
        let instant = now()
        try await database.unitOfWork { work in
            guard
                try await WebhookStore.changeCreditLevel(
                    of: organization,
                    from: before,
                    to: level,
                    at: instant,
                    in: work
                )
            else { return }
            let worse: Bool =
                switch (before ?? .ok, level) {
                case (.ok, .low), (.ok, .exhausted), (.low, .exhausted): true
                default: false
                }
            guard worse else { return }
            try await WebhookOutbox.organization(
                organization,
                level == .exhausted ? .creditsExhausted : .creditsLow,
                data: CreditLevelData(available: account.available, threshold: Self.lowThreshold),
                at: instant,
                in: work
            )
        }
    }
}

/// What `credits.low` and `credits.exhausted` tell.
struct CreditLevelData: Encodable {
    var available: Credits
    var threshold: Credits
}
