import CreditsCore
import CreditsStore
import Foundation
import Logging

/// Everything `buildApplication` needs. Flags override environment (`TEXTCREDITS_*`), which
/// overrides these defaults; the CLI resolves that order.
public struct AppConfiguration: Sendable {
    /// Interface to listen on.
    public var host: String = "127.0.0.1"
    /// Port to listen on.
    public var port: Int = 8080
    /// Where data lives (embedded SQLite by default).
    public var database: DatabaseURL = .embeddedDefault
    /// The URL this server is reached at (for provider callbacks and links).
    public var publicURL: String?
    /// Prices per channel.
    public var prices: PriceList = .standard
    /// Log level of the server's logger.
    public var logLevel: Logger.Level = .info
    /// Start background workers (off in route tests that drive time themselves).
    public var runsWorkers: Bool = true

    public init() {}

    /// The base URL callbacks and links use.
    public var baseURL: String { publicURL ?? "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)" }
}
