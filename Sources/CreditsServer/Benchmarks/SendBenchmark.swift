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
        /// Recipients of all campaigns together.
        public var recipients: Int
        /// Accept time of each campaign, in order.
        public var acceptTimes: [Double]
        /// From the end of the last accept until every hold settled.
        public var settleSeconds: Double
        /// From the start of the first accept until every hold settled.
        public var totalSeconds: Double
        /// Accept time of the (only, or first) campaign.
        public var acceptSeconds: Double { acceptTimes.first ?? 0 }
        /// One campaign: messages settled per second after it was accepted. Several: messages
        /// settled per second from the first accept on (dispatch runs while the others are accepted).
        public var messagesPerSecond: Double {
            Double(recipients) / (acceptTimes.count == 1 ? settleSeconds : totalSeconds)
        }
    }

    /// With `deadWebhook`, the organisation has a webhook endpoint that wants every event and
    /// that nobody answers (a refused port), to show that it slows neither accept nor settle.
    public static func run(
        database: any Database,
        url: DatabaseURL,
        recipients: Int,
        campaigns: Int = 1,
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
                recipients: recipients,
                campaigns: campaigns
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
        recipients: Int,
        campaigns: Int = 1
    ) async throws -> Figures {
        let principal = try await SendBenchmark.organization(
            administration: administration,
            principals: principals,
            credits: credits,
            contacts: contacts,
            recipients: recipients,
            groups: campaigns
        )
        if let webhooks {
            _ = try await webhooks.create(
                principal,
                EndpointInput(url: "http://127.0.0.1:9/dead", events: WebhookEventType.allCases.map(\.rawValue))
            )
        }
        let clock = ContinuousClock()
        let start = clock.now
        var acceptTimes: [Double] = []
        var accepted: [String] = []
        var acceptedRecipients = 0
        for group in 0..<campaigns {
            let before = clock.now
            let campaign = try await messaging.send(
                principal,
                SendInput(
                    groups: [SendBenchmark.group(group, of: campaigns)],
                    body:
                        "Hi {{first_name}}, the studio is closed today because of snow. Classes resume tomorrow at the usual time."
                )
            )
            acceptTimes.append((clock.now - before).seconds)
            accepted.append(campaign.campaign.id)
            acceptedRecipients += campaign.campaign.accepted
        }
        let lastAccepted = clock.now
        // Polls the pool's pending credits (one row) and counts the campaigns' messages only once
        // nothing is held any more, so watching costs the pipeline next to nothing.
        while true {
            let pending = try await credits.pool(of: principal.organizationID).pending
            if pending == .zero {
                var final = 0
                for id in accepted {
                    let totals = try await messaging.view(id, principal: principal)
                    final += [MessageStatus.delivered, .undelivered, .failed].reduce(0) {
                        $0 + (totals.counts[$1] ?? 0)
                    }
                }
                if final == acceptedRecipients { break }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let settled = clock.now
        return Figures(
            recipients: acceptedRecipients,
            acceptTimes: acceptTimes,
            settleSeconds: (settled - lastAccepted).seconds,
            totalSeconds: (settled - start).seconds
        )
    }

    /// The group of campaign `index`: "bench" for a single campaign, else "bench-1", "bench-2", …
    static func group(_ index: Int, of campaigns: Int) -> String { campaigns == 1 ? "bench" : "bench-\(index + 1)" }

    /// A fresh organisation with 3 credits per recipient and `recipients` opted-in contacts in
    /// each of `groups` groups ("bench" when one), imported before any clock starts. Numbers +1 415 NXX 2xxx–9xxx:
    /// distinct, valid, and never ending 0001–0009, so every text is delivered and every call
    /// answered by the Simulator.
    static func organization(
        administration: AdministrationService,
        principals: PrincipalResolver,
        credits: CreditService,
        contacts: ContactImportService,
        recipients: Int,
        groups: Int = 1
    ) async throws -> Principal {
        let principal = try await ImportBenchmark.principal(
            administration,
            principals,
            "Bench \(UUID().uuidString.prefix(6))"
        )
        _ = try await credits.adjust(
            principal.organizationID,
            credits: Credits(credits: Int64(recipients * groups) * 3),
            reason: "bench",
            actor: .system
        )
        var imported = 0
        let total = recipients * groups
        while imported < total {
            let count = min(ContactImportService.importMax, recipients - imported % recipients)
            let group = SendBenchmark.group(imported / recipients, of: groups)
            let rows = (imported..<imported + count).map { index in
                NewContactInput(
                    name: "Parent \(index)",
                    firstName: "P\(index)",
                    phone: "+1415\(200 + index / 8000)\(2000 + index % 8000)",
                    groups: [group]
                )
            }
            _ = try await contacts.submit(principal, ImportInput(contacts: rows, consent: .optedIn))
            try await contacts.runAll()
            imported += count
        }
        return principal
    }
}
