import ArgumentParser
import CreditsServer
import CreditsStore
import Foundation

/// `textcredits bench …`: throughput measurements that print numbers (use a release build).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput (build with -c release).",
        subcommands: [
            SegmentsBench.self, LedgerBench.self, SendBench.self, ImportBench.self, PreviewBench.self, VoiceBench.self,
            WebhooksBench.self,
        ]
    )
}

/// `textcredits bench segments`.
struct SegmentsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segments",
        abstract: "Segmentation MB/s on GSM-7 and UCS-2 corpora."
    )

    @Option(help: "Seconds to run each corpus.") var seconds: Double = 2
    @Option(help: "Messages in each corpus.") var messages: Int = 20_000

    func run() throws {
        for figures in SegmentBenchmark.run(seconds: seconds, messages: messages) {
            let line =
                "\(figures.corpus): \(format(figures.megabytesPerSecond)) MB/s, \(format(figures.messagesPerSecond / 1000)) k messages/s "
                + "(\(figures.messages) messages, \(figures.bytes) bytes, \(figures.rounds) rounds in \(format(figures.seconds)) s)"
            print(line)
        }
    }
}

/// One decimal place, for benchmark output.
func format(_ value: Double) -> String {
    let scaled = (value * 10).rounded() / 10
    return String(scaled)
}

/// `textcredits bench ledger`.
struct LedgerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Reserve then post holds on one hot pool from many concurrent tasks; prints holds/s and latency."
    )

    @OptionGroup var options: BenchDatabaseOptions
    @Option(help: "Holds to reserve and then post.") var holds: Int = 50_000
    @Option(help: "Concurrent tasks.") var concurrency: Int = 512
    @Option(help: "Most operations per transaction (group commit).") var batch: Int = 512

    func run() async throws {
        let (phases, url): ([LedgerBenchmark.Phase], DatabaseURL) = try await options.withDatabase { database, _ in
            try await LedgerBenchmark.run(
                database: database,
                holds: holds,
                concurrency: concurrency,
                batchSizeMax: batch
            )
        }
        print("store: \(url), \(holds) holds, \(concurrency) tasks, batches of at most \(batch)")
        for phase in phases {
            print(
                "\(phase.name): \(format(phase.perSecond)) holds/s, p50 \(format(phase.p50Milliseconds)) ms, "
                    + "p99 \(format(phase.p99Milliseconds)) ms (\(phase.operations) in \(format(phase.seconds)) s; "
                    + "batches: \(phase.batchesAhead) applied ahead, \(phase.batchesInTransaction) in their transaction)"
            )
        }
        print("peak memory: \(PeakMemory.describe(perUnit: holds, unit: "hold"))")
    }
}

/// `textcredits bench send`.
struct SendBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Accept a campaign to N recipients, then settle it end to end through the Simulator (no delay)."
    )

    @OptionGroup var options: BenchDatabaseOptions
    @Option(help: "Recipients of each campaign (at most 100,000, the limit of one send).") var recipients: Int = 100_000
    @Option(help: "Campaigns accepted back to back, each to its own group of contacts.") var campaigns: Int = 1

    func run() async throws {
        guard recipients > 0, recipients <= 100_000 else {
            throw ValidationError("--recipients must be 1–100000 (the limit of one send).")
        }
        guard campaigns > 0, campaigns <= 100 else { throw ValidationError("--campaigns must be 1–100.") }
        let (figures, url): (SendBenchmark.Figures, DatabaseURL) = try await options.withDatabase { database, url in
            try await SendBenchmark.run(
                database: database,
                url: url,
                recipients: recipients,
                campaigns: campaigns,
                logger: CommandLogger.make()
            )
        }
        print("store: \(url), \(figures.recipients) recipients in \(campaigns) campaign\(campaigns == 1 ? "" : "s")")
        if campaigns == 1 {
            print("accept: \(format(figures.acceptSeconds)) s (render, price, filter, reserve, enqueue)")
            print(
                "settle: \(format(figures.messagesPerSecond)) messages/s end to end (\(format(figures.settleSeconds)) s until every hold settled)"
            )
        } else {
            let times = figures.acceptTimes.map { format($0) }.joined(separator: " ")
            print("accept per campaign of \(recipients) (s, in order, while earlier ones are dispatched): \(times)")
            print(
                "settle: \(format(figures.messagesPerSecond)) messages/s end to end from the first accept (\(format(figures.totalSeconds)) s until every hold settled)"
            )
        }
        print("peak memory: \(PeakMemory.describe(perUnit: figures.recipients, unit: "recipient"))")
    }
}

/// The process's peak resident memory, as the kernel counts it.
enum PeakMemory {
    static func kilobytes() -> Int {
        var usage = rusage()
        #if os(Linux)
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return usage.ru_maxrss  // kilobytes on Linux
        #else
            getrusage(RUSAGE_SELF, &usage)
            return usage.ru_maxrss / 1024  // bytes on Darwin
        #endif
    }

    static func describe(perUnit count: Int, unit: String) -> String {
        let peak = kilobytes()
        return
            "\(format(Double(peak) / 1024)) MB (\(format(Double(peak) * 1024 / Double(max(count, 1)))) bytes per \(unit))"
    }
}

/// `textcredits bench voice`.
struct VoiceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voice",
        abstract:
            "Accept a voice broadcast to N recipients, then place and settle every call through the Simulator's network (no delay)."
    )

    @OptionGroup var options: BenchDatabaseOptions
    @Option(help: "Recipients.") var recipients: Int = 10_000

    func run() async throws {
        guard recipients > 0, recipients <= 100_000 else {
            throw ValidationError("--recipients must be 1–100000 (the limit of one send).")
        }
        let (figures, url): (VoiceBenchmark.Figures, DatabaseURL) = try await options.withDatabase { database, url in
            try await VoiceBenchmark.run(
                database: database,
                url: url,
                recipients: recipients,
                logger: CommandLogger.make()
            )
        }
        print("store: \(url), \(figures.recipients) recipients")
        print("accept: \(format(figures.acceptSeconds)) s (recipients, estimate, one hold per call, calls queued)")
        print(
            "settle: \(format(figures.callsPerSecond)) calls/s end to end (\(format(figures.settleSeconds)) s until every hold settled; \(figures.charged) credits charged)"
        )
    }
}

/// `textcredits bench preview`.
struct PreviewBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Time the composer's preview of a merged send to N recipients, then the send it previews."
    )

    @OptionGroup var options: BenchDatabaseOptions
    @Option(help: "Recipients (1–100000).") var recipients: Int = 10_000
    @Option(help: "Previews to time.") var runs: Int = 5

    func run() async throws {
        guard recipients > 0, recipients <= 100_000 else {
            throw ValidationError("--recipients must be 1–100000 (the limit of one send).")
        }
        guard runs > 0, runs <= 100 else { throw ValidationError("--runs must be 1–100.") }
        let (figures, url): (PreviewBenchmark.Figures, DatabaseURL) = try await options.withDatabase { database, url in
            try await PreviewBenchmark.run(
                database: database,
                url: url,
                recipients: recipients,
                runs: runs,
                logger: CommandLogger.make()
            )
        }
        let times = figures.previewSeconds.map { Int(($0 * 1000).rounded()) }
        print("store: \(url), \(figures.recipients) recipients")
        print(
            "preview: fastest \(times.first ?? 0) ms, median \(times[times.count / 2]) ms, "
                + "slowest \(times.last ?? 0) ms over \(times.count) runs"
        )
        print(
            "preview total \(figures.previewCredits.decimalString) credits; the send then reserved "
                + "\(figures.reservedCredits.decimalString) credits in \(format(figures.sendSeconds)) s"
        )
    }
}

/// `textcredits bench import`.
struct ImportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract:
            "Import N contacts in G groups each while another organisation adds contacts one at a time; prints the import's time and the other's write latencies."
    )

    @OptionGroup var options: BenchDatabaseOptions
    @Option(help: "Contacts to import (1–10000).") var contacts: Int = 10_000
    @Option(help: "Groups per contact (0–50).") var groups: Int = 50

    func run() async throws {
        guard (1...10_000).contains(contacts), (0...50).contains(groups) else {
            throw ValidationError("--contacts must be 1–10000 and --groups 0–50 (the limits of one import).")
        }
        let (figures, url): (ImportBenchmark.Figures, DatabaseURL) = try await options.withDatabase { database, _ in
            try await ImportBenchmark.run(
                database: database,
                contacts: contacts,
                groups: groups,
                logger: CommandLogger.make()
            )
        }
        print("store: \(url), \(figures.contacts) contacts × \(figures.groups) groups")
        print(
            "import: answered in \(format(figures.submitSeconds)) s, every row added after \(format(figures.importSeconds)) s"
        )
        print(
            "other organisation: \(figures.writes) single-contact writes, p50 \(format(figures.p50Milliseconds)) ms, p99 \(format(figures.p99Milliseconds)) ms, max \(format(figures.maxMilliseconds)) ms"
        )
    }
}

/// `--database` for a benchmark, and what becomes of it: without one the benchmark makes a new
/// SQLite file in the temporary directory. A database the benchmark created (that one, or an
/// SQLite path that did not exist) is deleted when it ends unless `--keep` is given; the command
/// says where it is while it runs and what it left. An existing database or PostgreSQL is kept.
/// (TEXTCREDITS_DATABASE is not read: a benchmark never writes into the server's database unasked.)
struct BenchDatabaseOptions: ParsableArguments {
    @Option(
        help:
            "sqlite:PATH or postgres://user:password@host:port/database (default: a new SQLite file in the temporary directory)."
    )
    var database: String?
    @Flag(help: "Keep the SQLite database the benchmark created instead of deleting it at the end.")
    var keep = false

    /// Opens and migrates the database, runs `body`, closes it and deletes what the benchmark made.
    func withDatabase<T>(_ body: (any Database, DatabaseURL) async throws -> T) async throws -> (T, DatabaseURL) {
        let url: DatabaseURL
        var created: [String] = []
        if let database {
            do { url = try DatabaseURL(parsing: database) } catch { throw ValidationError(error.description) }
            if case .sqlite(let path) = url, !FileManager.default.fileExists(atPath: path) { created = [path] }
        } else {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "textcredits-bench-\(UUID().uuidString.prefix(8).lowercased())"
            )
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("bench.sqlite").path
            url = .sqlite(path: path)
            created = [path, folder.path]
        }
        let fate =
            created.isEmpty
            ? "kept: it existed before" : keep ? "kept at the end: --keep" : "deleted at the end; --keep keeps it"
        print("database: \(url) (\(fate))")
        let database = try await DatabaseOptions.open(url, logger: CommandLogger.make())
        let result: T
        do {
            result = try await body(database, url)
        } catch {
            await database.close()
            finish(created)
            throw error
        }
        await database.close()
        finish(created)
        return (result, url)
    }

    /// Deletes (or, with --keep, reports) the files the benchmark created, with their size.
    func finish(_ created: [String]) {
        guard let path = created.first else { return }
        let files = ["", "-wal", "-shm", "-journal"].map { path + $0 }
        let bytes = files.compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }.reduce(
            0,
            +
        )
        let size = "\(format(Double(bytes) / 1_000_000)) MB"
        if keep {
            print("kept \(path) (\(size))")
            return
        }
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        if created.count > 1 { try? FileManager.default.removeItem(atPath: created[1]) }
        print("deleted \(path) (\(size))")
    }
}
