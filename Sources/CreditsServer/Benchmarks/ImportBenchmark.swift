import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Logging
import Synchronization

/// `textcredits bench import`: one organisation imports N contacts, each in G groups (checked,
/// stored in bounded transactions, then added by the import job a batch at a time), while
/// another organisation adds one contact at a time, as office staff would. Prints how long
/// the import took and the other organisation's write latencies: the import must not keep
/// them waiting.
public enum ImportBenchmark {
    public struct Figures: Sendable {
        public var contacts: Int
        public var groups: Int
        /// From the request's start until it answered (rows checked and stored).
        public var submitSeconds: Double
        /// From the request's start until the last batch was added.
        public var importSeconds: Double
        /// The other organisation's single-contact writes while the import ran.
        public var writes: Int
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var maxMilliseconds: Double
    }

    public static func run(database: any Database, contacts: Int, groups: Int, logger: Logger) async throws -> Figures {
        var configuration = AppConfiguration()
        configuration.runsWorkers = false
        let services = try await AppServices.build(configuration: configuration, database: database, logger: logger)
        let (administration, principals) = (services.administration, services.principals)
        let big = try await principal(administration, principals, "Bench Import \(UUID().uuidString.prefix(6))")
        let small = try await principal(administration, principals, "Bench Office \(UUID().uuidString.prefix(6))")
        let rows = (0..<contacts).map { index in
            NewContactInput(
                name: "Parent \(index) Example",
                phone: "+1415\(200 + index / 8000)\(2000 + index % 8000)",
                groups: (0..<groups).map { String(format: "class %02d", $0) }
            )
        }
        let imports = services.contactImports
        let office = services.contacts
        let clock = ContinuousClock()
        let done = Flag()
        let start = clock.now
        async let latencies: [Duration] = {
            var measured: [Duration] = []
            var index = 0
            while !done.isSet {
                let began = clock.now
                _ = try await office.create(
                    small,
                    NewContactInput(name: "Walk-in \(index)", phone: "+1628\(200 + index / 8000)\(2000 + index % 8000)")
                )
                measured.append(clock.now - began)
                index += 1
                try await Task.sleep(for: .milliseconds(10))
            }
            return measured
        }()
        let submitted = try await imports.submit(big, ImportInput(contacts: rows))
        let answered = clock.now
        try await imports.runAll()
        let finished = clock.now
        done.set()
        let sorted = try await latencies.sorted()
        guard !sorted.isEmpty, try await imports.view(big, submitted.id).status == .completed else {
            throw ConfigurationError("the import did not complete")
        }
        return Figures(
            contacts: contacts,
            groups: groups,
            submitSeconds: (answered - start).seconds,
            importSeconds: (finished - start).seconds,
            writes: sorted.count,
            p50Milliseconds: sorted[sorted.count / 2].seconds * 1000,
            p99Milliseconds: sorted[min(sorted.count - 1, sorted.count * 99 / 100)].seconds * 1000,
            maxMilliseconds: (sorted.last ?? .zero).seconds * 1000
        )
    }

    /// A new organisation (US, shared credits) and its first key's principal.
    static func principal(_ administration: AdministrationService, _ principals: PrincipalResolver, _ name: String)
        async throws -> Principal
    {
        let created = try await administration.createOrganization(
            name: name,
            country: .us,
            timeZone: "America/Chicago",
            creditMode: .shared,
            ownerName: "Bench",
            ownerEmail: "bench@example.com",
            ownerPassword: nil,
            actor: .system
        )
        guard let principal = try await principals.principal(forKey: created.apiKey) else {
            throw APIError.unauthorized
        }
        return principal
    }
}

/// A flag one task sets and another reads.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
