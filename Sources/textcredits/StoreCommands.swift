import ArgumentParser
import CreditsStore
import Foundation

/// `textcredits migrate`: brings the database to the newest schema.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the database schema."
    )

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let database = try await DatabaseFactory.open(try options.url(), logger: CommandLogger.make())
        do {
            let applied = try await Migrator.migrate(database)
            for migration in applied { print("applied \(migration.version): \(migration.name)") }
            print("schema at version \(try await Migrator.currentVersion(database)) (\(try options.url()))")
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }
}

/// `textcredits ledger …`.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Inspect the credit ledger.",
        subcommands: [VerifyCommand.self]
    )
}

/// `textcredits ledger verify`: exit 0 only when every invariant holds.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute every balance from the entries and check the ledger's invariants."
    )

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let database = try await options.open()
        let violations: [LedgerViolation]
        do {
            violations = try await LedgerVerifier(database: database).verify()
        } catch {
            await database.close()
            throw error
        }
        await database.close()
        try VerifyCommand.report(violations, url: try options.url())
    }

    /// Prints what the verifier found, failing the command when anything is broken (shared with
    /// `textcredits restore`, which checks the restored copy the same way).
    static func report(_ violations: [LedgerViolation], url: DatabaseURL) throws {
        if violations.isEmpty {
            print("ledger verified: all invariants hold (\(url))")
            return
        }
        for violation in violations { print("VIOLATION \(violation)") }
        print("\(violations.count) violation(s) found")
        throw ExitCode(1)
    }
}
