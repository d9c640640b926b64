import ArgumentParser
import CreditsStore
import Foundation

/// `textcredits backup`: a consistent copy of a live SQLite database, taken while the server keeps
/// writing (PostgreSQL is backed up with `pg_dump`; see the README).
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a live SQLite database to a file while the server keeps running.",
        discussion: """
            The copy is one consistent snapshot (SQLite's VACUUM INTO, read in a single transaction \
            that never blocks the server's writes). It is written beside FILE, checked with \
            PRAGMA integrity_check and renamed into place only when complete.
            """
    )

    @OptionGroup var options: DatabaseOptions
    @Option(name: .customLong("to"), help: ArgumentHelp("The backup file to write.", valueName: "FILE"))
    var target: String
    @Flag(help: "Replace FILE if it already exists.") var force = false

    func run() async throws {
        let url = try options.url()
        let report = try await BackupOutcome.reporting {
            try await SQLiteBackup.backup(url, to: target, replacing: force, logger: CommandLogger.make())
        }
        print(
            "backed up \(url) to \(report.path): \(BackupOutcome.size(report.bytes)), "
                + "schema at migration \(report.migrationVersion), integrity ok, "
                + "in \(BackupOutcome.seconds(report.duration))"
        )
    }
}

/// `textcredits restore`: puts a backup in place as the database, then verifies the ledger.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put an SQLite backup in place as the database (stop the server first), then verify the ledger."
    )

    @Option(
        name: .customLong("from"),
        help: ArgumentHelp("The backup file, as written by textcredits backup.", valueName: "FILE")
    )
    var source: String
    @OptionGroup var options: DatabaseOptions
    @Flag(help: "Replace an existing database (stop the server that uses it first).") var force = false

    func run() async throws {
        let url = try options.url()
        let report = try await BackupOutcome.reporting {
            try await SQLiteBackup.restore(from: source, to: url, replacing: force, logger: CommandLogger.make())
        }
        print(
            "restored \(source) to \(url): \(BackupOutcome.size(report.bytes)), "
                + "schema at migration \(report.migrationVersion), integrity ok, "
                + "in \(BackupOutcome.seconds(report.duration))"
        )
        let database = try await options.open()
        let violations: [LedgerViolation]
        do {
            violations = try await LedgerVerifier(database: database).verify()
        } catch {
            await database.close()
            throw error
        }
        await database.close()
        try VerifyCommand.report(violations, url: url)
    }
}

/// How the two commands print their results and refusals.
enum BackupOutcome {
    /// Runs the copy; a refusal is printed as its sentence and ends the command with status 1.
    static func reporting<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as BackupError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// "12.3 MB (12345678 bytes)".
    static func size(_ bytes: Int64) -> String {
        let megabytes = Double(bytes) / 1_000_000
        return megabytes >= 0.1
            ? "\(String(format: "%.1f", megabytes)) MB (\(bytes) bytes)" : "\(bytes) bytes"
    }

    /// "0.42 s".
    static func seconds(_ duration: Duration) -> String {
        let components = duration.components
        let value = Double(components.seconds) + Double(components.attoseconds) / 1e18
        return "\(String(format: "%.2f", value)) s"
    }
}
