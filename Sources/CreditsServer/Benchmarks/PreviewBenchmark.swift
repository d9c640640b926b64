import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Logging

/// `textcredits bench preview`: the composer's preview of a merged send to N opted-in contacts
/// (the dry run of the plan a send places: recipients, merge fields, pricing, the five most
/// expensive texts), timed several times; then the send itself, to show the preview's total is
/// the total reserved.
public enum PreviewBenchmark {
    public struct Figures: Sendable {
        public var recipients: Int
        /// Each preview's time, in seconds, fastest first.
        public var previewSeconds: [Double]
        public var previewCredits: Credits
        public var reservedCredits: Credits
        public var sendSeconds: Double
    }

    public static func run(database: any Database, url: DatabaseURL, recipients: Int, runs: Int, logger: Logger)
        async throws -> Figures
    {
        var configuration = AppConfiguration()
        configuration.database = url
        configuration.runsWorkers = false
        let services = try await AppServices.build(configuration: configuration, database: database, logger: logger)
        let principal = try await ImportBenchmark.principal(
            services.administration,
            services.principals,
            "Bench \(UUID().uuidString.prefix(6))"
        )
        _ = try await services.credits.adjust(
            principal.organizationID,
            credits: Credits(credits: Int64(recipients) * 4),
            reason: "bench",
            actor: .system
        )
        // Class names of different lengths, so texts cost one, two or three segments.
        let classes = ["Tumbling", "Tuesday Advanced Tumbling and Trampoline", "Ballet"]
        var imported = 0
        while imported < recipients {
            let count = min(ContactImportService.importMax, recipients - imported)
            let rows = (imported..<imported + count).map { index in
                NewContactInput(
                    name: "Parent \(index)",
                    firstName: index % 10 == 0 ? "Maximiliana-Josephine Fitzgerald-Okonkwo" : "P\(index)",
                    phone: "+1415\(200 + index / 8000)\(2000 + index % 8000)",
                    groups: ["bench"],
                    fields: index % 97 == 0 ? [:] : ["class_name": classes[index % classes.count]]
                )
            }
            _ = try await services.contactImports.submit(principal, ImportInput(contacts: rows, consent: .optedIn))
            try await services.contactImports.runAll()
            imported += count
        }
        let input = SendInput(
            groups: ["bench"],
            body:
                "Hi {{first_name}}, {{class_name}} moves to 5pm on Thursday because of the recital rehearsal in the main hall. "
                + "Please bring water. See you there!",
            overrideSendingHours: true
        )
        let clock = ContinuousClock()
        var times: [Double] = []
        var preview: SendPreview?
        for _ in 0..<max(1, runs) {
            let start = clock.now
            preview = try await services.messaging.preview(principal, input)
            times.append((clock.now - start).seconds)
        }
        let start = clock.now
        let campaign = try await services.messaging.send(principal, input)
        let sent = clock.now
        return Figures(
            recipients: preview?.recipients ?? 0,
            previewSeconds: times.sorted(),
            previewCredits: preview?.credits ?? .zero,
            reservedCredits: campaign.campaign.creditsReserved,
            sendSeconds: (sent - start).seconds
        )
    }
}
