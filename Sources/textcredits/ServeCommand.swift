import ArgumentParser
import CreditsServer
import CreditsStore
import Foundation
import Hummingbird
import Logging

/// `textcredits serve`: the server, on the embedded default unless told otherwise.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server (SQLite ./textcredits.sqlite, Simulator, Sandbox and Outbox by default).")

    @Option(help: "Interface to listen on (env TEXTCREDITS_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (env TEXTCREDITS_PORT; default 8080).") var port: Int?
    @OptionGroup var database: DatabaseOptions
    @Option(name: .customLong("public-url"), help: "URL the server is reached at, for provider callbacks (env TEXTCREDITS_PUBLIC_URL).")
    var publicURL: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (env TEXTCREDITS_LOG_LEVEL).")
    var logLevel: String?

    func run() async throws {
        let configuration = try resolvedConfiguration()
        let application = try await buildApplication(configuration)
        try await application.runService()
    }

    /// Flags, then environment, then defaults.
    func resolvedConfiguration() throws -> AppConfiguration {
        var configuration = AppConfiguration()
        configuration.host = host ?? Environment.value("TEXTCREDITS_HOST") ?? configuration.host
        if let text = Environment.value("TEXTCREDITS_PORT") {
            guard let value = Int(text) else { throw ValidationError("TEXTCREDITS_PORT must be a number.") }
            configuration.port = value
        }
        if let port { configuration.port = port }
        guard (1...65535).contains(configuration.port) else { throw ValidationError("The port must be 1–65535.") }
        configuration.database = try database.url()
        configuration.publicURL = publicURL ?? Environment.value("TEXTCREDITS_PUBLIC_URL")
        if let level = logLevel ?? Environment.value("TEXTCREDITS_LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level) else { throw ValidationError("Unknown log level \(level).") }
            configuration.logLevel = parsed
        }
        return configuration
    }
}
