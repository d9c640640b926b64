import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// `textcredits bench webhooks`: writes N events into the outbox for one endpoint (a local
/// Hummingbird server answering 204), then runs the delivery job's passes — claim, sign, POST,
/// record — until every one is delivered, and reports events delivered per second.
public enum WebhookBenchmark {
    public struct Figures: Sendable {
        public var events: Int
        public var writeSeconds: Double
        public var deliverSeconds: Double
        public var received: Int
        public var eventsPerSecond: Double { Double(events) / deliverSeconds }
    }

    public static func run(database: any Database, url: DatabaseURL, events: Int, logger: Logger) async throws
        -> Figures
    {
        let received = Atomic<Int>(0)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            received.wrappingAdd(1, ordering: .relaxed)
            return Response(status: .noContent)
        }
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let receiver = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        var configuration = AppConfiguration()
        configuration.database = url
        configuration.webhooksAllowPrivate = true
        let services = try await AppServices.build(configuration: configuration, database: database, logger: logger)
        return try await BenchmarkHarness.whileRunning([receiver], logger: logger) {
            var port = 0
            for await bound in portStream { port = bound }
            return try await measure(
                administration: services.administration,
                principals: services.principals,
                webhooks: services.webhooks,
                dispatcher: services.webhookDispatcher,
                store: services.stores.webhooks,
                database: services.database,
                port: port,
                events: events,
                received: received
            )
        }
    }

    static func measure(
        administration: AdministrationService,
        principals: PrincipalResolver,
        webhooks: WebhookService,
        dispatcher: WebhookDispatcher,
        store: WebhookStore,
        database: any Database,
        port: Int,
        events: Int,
        received: borrowing Atomic<Int>
    ) async throws -> Figures {
        let principal = try await ImportBenchmark.principal(
            administration,
            principals,
            "Bench \(UUID().uuidString.prefix(6))"
        )
        let endpoint = try await webhooks.create(
            principal,
            EndpointInput(url: "http://127.0.0.1:\(port)/hook", events: ["credits.low"])
        )
        let organization = principal.organizationID
        let clock = ContinuousClock()
        let start = clock.now
        var written = 0
        while written < events {
            let count = min(1000, events - written)
            let first = written
            try await database.unitOfWork { work in
                try await WebhookOutbox.emit(for: [organization], in: work) {
                    try (first..<first + count).map { index in
                        try WebhookEvent(
                            id: WebhookOutbox.eventID(),
                            organization: organization,
                            type: .creditsLow,
                            at: Date(),
                            data: ["available": index, "threshold": 100]
                        )
                    }
                }
            }
            written += count
        }
        let wrote = clock.now
        while true {
            if try await dispatcher.runOnce(limit: 256) > 0 { continue }
            if try await store.pendingCount(endpoint: endpoint.id) == 0 { break }
        }
        let delivered = clock.now
        return Figures(
            events: events,
            writeSeconds: (wrote - start).seconds,
            deliverSeconds: (delivered - wrote).seconds,
            received: received.load(ordering: .relaxed)
        )
    }
}
