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

    /// Opens and migrates the database.
    func open(logger: Logger = CommandLogger.make()) async throws -> any Database {
        try await DatabaseOptions.open(try url(), logger: logger)
    }

    /// Opens and migrates the database at `url`.
    static func open(_ url: DatabaseURL, logger: Logger) async throws -> any Database {
        let database = try await DatabaseFactory.open(url, logger: logger)
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
