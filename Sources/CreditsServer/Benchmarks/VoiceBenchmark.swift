import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `textcredits bench voice`: accepts a voice broadcast to N opted-in contacts (recipients,
/// estimate, one hold per call reserved at once, calls queued) and then runs the real pipeline —
/// call dispatcher, the Simulator's network with no delay asking the server's signed TwiML
/// webhooks and reporting each call's end over HTTP, settlement — until every hold is settled.
public enum VoiceBenchmark {
    public struct Figures: Sendable {
        public var recipients: Int
        public var acceptSeconds: Double
        public var settleSeconds: Double
        public var charged: Credits
        public var callsPerSecond: Double { Double(recipients) / settleSeconds }
    }

    public static func run(database: any Database, url: DatabaseURL, recipients: Int, logger: Logger) async throws
        -> Figures
    {
        var configuration = AppConfiguration()
        configuration.database = url
        configuration.port = 0
        configuration.simulatorDelay = .zero
        configuration.pollInterval = .milliseconds(20)
        let services = try await AppServices.build(configuration: configuration, database: database, logger: logger)
        let application = buildApplication(services: services)
        return try await BenchmarkHarness.whileRunning([application], logger: logger) {
            try await measure(
                administration: services.administration,
                principals: services.principals,
                credits: services.credits,
                contacts: services.contactImports,
                voice: services.voice,
                recipients: recipients
            )
        }
    }

    static func measure(
        administration: AdministrationService,
        principals: PrincipalResolver,
        credits: CreditService,
        contacts: ContactImportService,
        voice: VoiceService,
        recipients: Int
    ) async throws -> Figures {
        let principal = try await SendBenchmark.organization(
            administration: administration,
            principals: principals,
            credits: credits,
            contacts: contacts,
            recipients: recipients
        )
        let clock = ContinuousClock()
        let start = clock.now
        let broadcast = try await voice.broadcast(
            principal,
            BroadcastInput(
                groups: ["bench"],
                say: SayInput(text: "The studio is closed today because of snow. Classes resume tomorrow."),
                machineDetection: .leaveMessage,
                overrideSendingHours: true
            )
        )
        let accepted = clock.now
        // Polls the pool's pending credits (one row), and the broadcast's tally only once nothing
        // is held any more.
        var view = broadcast
        while true {
            if try await credits.pool(of: principal.organizationID).pending == .zero {
                view = try await voice.view(broadcast: broadcast.id, principal: principal)
                if view.status == "completed" { break }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let settled = clock.now
        return Figures(
            recipients: broadcast.accepted,
            acceptSeconds: (accepted - start).seconds,
            settleSeconds: (settled - accepted).seconds,
            charged: view.creditsCharged
        )
    }
}
