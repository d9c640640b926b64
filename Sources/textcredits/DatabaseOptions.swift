import ArgumentParser
import Foundation
import CreditsStore
import Logging

/// `--database URL`, shared by every command that touches data.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "sqlite:PATH or postgres://user:password@host:port/database (env TEXTCREDITS_DATABASE).")
    var database: String?

    /// The URL from the flag, then the environment, then the embedded default.
    func url() throws -> DatabaseURL {
        let text = database ?? Environment.value("TEXTCREDITS_DATABASE")
        guard let text else { return .embeddedDefault }
        do {
            return try DatabaseURL(parsing: text)
        } catch {
            throw ValidationError(error.description)
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

/// Reads configuration from the environment (`TEXTCREDITS_*`).
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

/// Loggers for one-shot commands: warnings and worse only, unless TEXTCREDITS_LOG_LEVEL says otherwise.
enum CommandLogger {
    static func make(_ label: String = "textcredits") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Environment.value("TEXTCREDITS_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }
}
