import ArgumentParser
import CreditsAdapters
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
    @Option(help: "simulator (default) or twilio (env TEXTCREDITS_PROVIDER; Twilio reads TEXTCREDITS_TWILIO_ACCOUNT_SID, TEXTCREDITS_TWILIO_AUTH_TOKEN, TEXTCREDITS_TWILIO_API_URL).")
    var provider: String?
    @Option(help: "sandbox (default) or stripe (env TEXTCREDITS_GATEWAY; Stripe reads TEXTCREDITS_STRIPE_SECRET_KEY, TEXTCREDITS_STRIPE_API_URL). Invoices name the seller from TEXTCREDITS_SELLER_NAME, TEXTCREDITS_SELLER_ADDRESS, TEXTCREDITS_SELLER_TAX_ID.")
    var gateway: String?
    @Option(help: "outbox (default: mail is kept and listed at GET /v1/mail) or smtp (env TEXTCREDITS_MAIL; SMTP reads TEXTCREDITS_SMTP_HOST, TEXTCREDITS_SMTP_PORT (587), TEXTCREDITS_SMTP_USERNAME, TEXTCREDITS_SMTP_PASSWORD, TEXTCREDITS_SMTP_FROM, TEXTCREDITS_SMTP_SECURITY (starttls or none)).")
    var mail: String?
    @Option(name: .customLong("simulator-delay"), help: "Seconds before the Simulator reports delivery (env TEXTCREDITS_SIMULATOR_DELAY; default 1).")
    var simulatorDelay: Double?
    @Option(name: .customLong("rate-per-number"), help: "Most texts per second from one number (env TEXTCREDITS_RATE_PER_NUMBER; default 500).")
    var ratePerNumber: Int?

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
        switch provider ?? Environment.value("TEXTCREDITS_PROVIDER") ?? "simulator" {
        case "simulator": configuration.provider = .simulator
        case "twilio":
            guard let sid = Environment.value("TEXTCREDITS_TWILIO_ACCOUNT_SID"), let token = Environment.value("TEXTCREDITS_TWILIO_AUTH_TOKEN") else {
                throw ValidationError("--provider twilio needs TEXTCREDITS_TWILIO_ACCOUNT_SID and TEXTCREDITS_TWILIO_AUTH_TOKEN.")
            }
            configuration.provider = .twilio(TwilioConfiguration(
                accountSID: sid, authToken: token, apiURL: Environment.value("TEXTCREDITS_TWILIO_API_URL") ?? "https://api.twilio.com",
                messagingURL: Environment.value("TEXTCREDITS_TWILIO_MESSAGING_URL") ?? "https://messaging.twilio.com",
                customerProfileBundleSID: Environment.value("TEXTCREDITS_TWILIO_CUSTOMER_PROFILE"),
                a2pProfileBundleSID: Environment.value("TEXTCREDITS_TWILIO_A2P_PROFILE")))
        case let other: throw ValidationError("Unknown provider \(other); use simulator or twilio.")
        }
        switch gateway ?? Environment.value("TEXTCREDITS_GATEWAY") ?? "sandbox" {
        case "sandbox": configuration.gateway = .sandbox
        case "stripe":
            guard let key = Environment.value("TEXTCREDITS_STRIPE_SECRET_KEY") else {
                throw ValidationError("--gateway stripe needs TEXTCREDITS_STRIPE_SECRET_KEY.")
            }
            configuration.gateway = .stripe(StripeConfiguration(secretKey: key, apiURL: Environment.value("TEXTCREDITS_STRIPE_API_URL") ?? "https://api.stripe.com"))
        case let other: throw ValidationError("Unknown gateway \(other); use sandbox or stripe.")
        }
        switch mail ?? Environment.value("TEXTCREDITS_MAIL") ?? "outbox" {
        case "outbox": configuration.mail = .outbox
        case "smtp":
            guard let host = Environment.value("TEXTCREDITS_SMTP_HOST"), let from = Environment.value("TEXTCREDITS_SMTP_FROM") else {
                throw ValidationError("--mail smtp needs TEXTCREDITS_SMTP_HOST and TEXTCREDITS_SMTP_FROM.")
            }
            guard let security = SMTPConfiguration.Security(rawValue: Environment.value("TEXTCREDITS_SMTP_SECURITY") ?? "starttls") else {
                throw ValidationError("TEXTCREDITS_SMTP_SECURITY must be starttls or none.")
            }
            configuration.mail = .smtp(SMTPConfiguration(
                host: host, port: Environment.value("TEXTCREDITS_SMTP_PORT").flatMap(Int.init) ?? 587,
                username: Environment.value("TEXTCREDITS_SMTP_USERNAME"), password: Environment.value("TEXTCREDITS_SMTP_PASSWORD"),
                security: security, from: from))
        case let other: throw ValidationError("Unknown mail transport \(other); use outbox or smtp.")
        }
        if let name = Environment.value("TEXTCREDITS_SELLER_NAME") { configuration.seller.name = name }
        configuration.seller.address = Environment.value("TEXTCREDITS_SELLER_ADDRESS")?.replacingOccurrences(of: "\\n", with: "\n")
        configuration.seller.taxID = Environment.value("TEXTCREDITS_SELLER_TAX_ID")
        if let delay = simulatorDelay ?? Environment.value("TEXTCREDITS_SIMULATOR_DELAY").flatMap(Double.init) {
            guard delay >= 0, delay <= 3600 else { throw ValidationError("--simulator-delay must be 0–3600 seconds.") }
            configuration.simulatorDelay = .milliseconds(Int(delay * 1000))
        }
        if let rate = ratePerNumber ?? Environment.value("TEXTCREDITS_RATE_PER_NUMBER").flatMap(Int.init) {
            guard rate >= 1 else { throw ValidationError("--rate-per-number must be at least 1.") }
            configuration.ratePerNumber = rate
        }
        if let level = logLevel ?? Environment.value("TEXTCREDITS_LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level) else { throw ValidationError("Unknown log level \(level).") }
            configuration.logLevel = parsed
        }
        return configuration
    }
}
