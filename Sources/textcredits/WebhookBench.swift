import ArgumentParser
import CreditsServer
import CreditsStore
import Foundation

/// `textcredits bench webhooks`.
struct WebhooksBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract:
            "Events delivered per second to a local endpoint; then a send's accept and settle with and without a dead endpoint."
    )

    @OptionGroup var options: BenchDatabaseOptions
    @Option(help: "Events to deliver.") var events: Int = 20_000
    @Option(help: "Recipients of the send measured with and without a dead endpoint (0 skips it).")
    var recipients: Int = 10_000

    func run() async throws {
        guard (1...1_000_000).contains(events) else { throw ValidationError("--events must be 1–1000000.") }
        guard (0...100_000).contains(recipients) else { throw ValidationError("--recipients must be 0–100000.") }
        let logger = CommandLogger.make()
        let (figures, url): (WebhookBenchmark.Figures, DatabaseURL) = try await options.withDatabase { database, url in
            try await WebhookBenchmark.run(database: database, url: url, events: events, logger: logger)
        }
        print("store: \(url), \(figures.events) events to one endpoint on 127.0.0.1")
        print("outbox: \(format(Double(figures.events) / figures.writeSeconds)) events/s written (1,000 a transaction)")
        print(
            "delivery: \(format(figures.eventsPerSecond)) events/s delivered, signed and recorded (\(format(figures.deliverSeconds)) s; the endpoint received \(figures.received))"
        )
        guard recipients > 0 else { return }
        for dead in [false, true] {
            let (send, _): (SendBenchmark.Figures, DatabaseURL) = try await options.withDatabase { database, url in
                try await SendBenchmark.run(
                    database: database,
                    url: url,
                    recipients: recipients,
                    deadWebhook: dead,
                    logger: logger
                )
            }
            print(
                "send \(send.recipients) \(dead ? "with a dead endpoint wanting every event" : "without endpoints"): accept \(format(send.acceptSeconds * 1000)) ms, settle \(format(send.messagesPerSecond)) messages/s"
            )
        }
    }
}
