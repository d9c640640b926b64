import ArgumentParser
import CreditsServer
import CreditsStore
import Foundation
import Logging

/// `--database URL`, shared by every command that touches data.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "sqlite:PATH or postgres://user:password@host:port/database (env TEXTCREDITS_DATABASE).")
    var database: String?

    /// The URL from the flag, then the environment, then the embedded default.
    func url() throws -> DatabaseURL {
        do {
            return try AppConfiguration.database(
                AppConfiguration.reader(flags: database.map { ["database": $0] } ?? [:])
            )
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Runs `body` on the opened and migrated database, closing it afterwards whatever happens.
    func withDatabase<T>(_ body: (any Database, DatabaseURL) async throws -> T) async throws -> T {
        let database = try await open()
        do {
            let result = try await body(database, try url())
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }

    /// Opens and migrates the database.
    func open(logger: Logger = CommandLogger.make()) async throws -> any Database {
        let database = try await DatabaseFactory.open(try url(), logger: logger)
        do {
            try await Migrator.migrate(database)
        } catch {
            await database.close()
            throw error
        }
        return database
    }
}

/// Loggers for one-shot commands: warnings and worse only, unless TEXTCREDITS_LOG_LEVEL says otherwise.
enum CommandLogger {
    static func make(_ label: String = "textcredits") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = AppConfiguration.logLevel(AppConfiguration.reader(flags: [:])) ?? .warning
        return logger
    }
}
