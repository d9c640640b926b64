import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `textcredits bench send`: accepts a campaign to N opted-in contacts (render, price, filter,
/// reserve, enqueue) and then runs the real pipeline — dispatcher, Simulator with no delay
/// calling back over HTTP, settlement — until every hold is settled.
public enum SendBenchmark {
    public struct Figures: Sendable {
        public var recipients: Int
        public var acceptSeconds: Double
        public var settleSeconds: Double
        public var messagesPerSecond: Double { Double(recipients) / settleSeconds }
    }

    /// With `deadWebhook`, the organisation has a webhook endpoint that wants every event and
    /// that nobody answers (a refused port), to show that it slows neither accept nor settle.
    public static func run(
        database: any Database,
        url: DatabaseURL,
        recipients: Int,
        deadWebhook: Bool = false,
        logger: Logger
    ) async throws -> Figures {
        var configuration = AppConfiguration()
        configuration.webhooksAllowPrivate = deadWebhook
        configuration.database = url
        configuration.port = 0
        configuration.simulatorDelay = .zero
        configuration.ratePerNumber = 1_000_000
        configuration.pollInterval = .milliseconds(20)
        let services = try await AppServices.build(configuration: configuration, database: database, logger: logger)
        let application = buildApplication(services: services)
        return try await BenchmarkHarness.whileRunning([application], logger: logger) {
            try await measure(
                administration: services.administration,
                credits: services.credits,
                principals: services.principals,
                contacts: services.contactImports,
                messaging: services.messaging,
                webhooks: deadWebhook ? services.webhooks : nil,
                recipients: recipients
            )
        }
    }

    static func measure(
        administration: AdministrationService,
        credits: CreditService,
        principals: PrincipalResolver,
        contacts: ContactImportService,
        messaging: MessagingService,
        webhooks: WebhookService? = nil,
        recipients: Int
    ) async throws -> Figures {
        let principal = try await SendBenchmark.organization(
            administration: administration,
            principals: principals,
            credits: credits,
            contacts: contacts,
            recipients: recipients
        )
        if let webhooks {
            _ = try await webhooks.create(
                principal,
                EndpointInput(url: "http://127.0.0.1:9/dead", events: WebhookEventType.allCases.map(\.rawValue))
            )
        }
        let clock = ContinuousClock()
        let start = clock.now
        let campaign = try await messaging.send(
            principal,
            SendInput(
                groups: ["bench"],
                body:
                    "Hi {{first_name}}, the studio is closed today because of snow. Classes resume tomorrow at the usual time."
            )
        )
        let accepted = clock.now
        // Polls the pool's pending credits (one row) and counts the campaign's messages only once
        // nothing is held any more, so watching costs the pipeline next to nothing.
        while true {
            let pending = try await credits.pool(of: principal.organizationID).pending
            if pending == .zero {
                let totals = try await messaging.view(campaign.campaign.id, principal: principal)
                let final = [MessageStatus.delivered, .undelivered, .failed].reduce(0) { $0 + (totals.counts[$1] ?? 0) }
                if final == campaign.campaign.accepted { break }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let settled = clock.now
        return Figures(
            recipients: campaign.campaign.accepted,
            acceptSeconds: (accepted - start).seconds,
            settleSeconds: (settled - accepted).seconds
        )
    }

    /// A fresh organisation with 3 credits per recipient and `recipients` opted-in contacts in
    /// the group "bench", imported before any clock starts. Numbers +1 415 NXX 2xxx–9xxx:
    /// distinct, valid, and never ending 0001–0009, so every text is delivered and every call
    /// answered by the Simulator.
    static func organization(
        administration: AdministrationService,
        principals: PrincipalResolver,
        credits: CreditService,
        contacts: ContactImportService,
        recipients: Int
    ) async throws -> Principal {
        let principal = try await ImportBenchmark.principal(
            administration,
            principals,
            "Bench \(UUID().uuidString.prefix(6))"
        )
        _ = try await credits.adjust(
            principal.organizationID,
            credits: Credits(credits: Int64(recipients) * 3),
            reason: "bench",
            actor: .system
        )
        var imported = 0
        while imported < recipients {
            let count = min(ContactImportService.importMax, recipients - imported)
            let rows = (imported..<imported + count).map { index in
                NewContactInput(
                    name: "Parent \(index)",
                    firstName: "P\(index)",
                    phone: "+1415\(200 + index / 8000)\(2000 + index % 8000)",
                    groups: ["bench"]
                )
            }
            _ = try await contacts.submit(principal, ImportInput(contacts: rows, consent: .optedIn))
            try await contacts.runAll()
            imported += count
        }
        return principal
    }
}
