import ArgumentParser
import CreditsServer
import Hummingbird
import Logging

/// `textcredits serve`: the server, on the embedded default unless told otherwise.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server (SQLite ./textcredits.sqlite, Simulator, Sandbox and Outbox by default)."
    )

    @Option(help: "Interface to listen on (env TEXTCREDITS_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (env TEXTCREDITS_PORT; default 8080).") var port: Int?
    @OptionGroup var database: DatabaseOptions
    @Option(
        name: .customLong("public-url"),
        help: "URL the server is reached at, for provider callbacks (env TEXTCREDITS_PUBLIC_URL)."
    )
    var publicURL: String?
    @Option(
        name: .customLong("trusted-proxy"),
        help:
            "IP address of a proxy in front of the server whose X-Forwarded-For, -Proto and -Host are believed; repeat for several (env TEXTCREDITS_TRUSTED_PROXIES, comma-separated)."
    )
    var trustedProxies: [String] = []
    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error (env TEXTCREDITS_LOG_LEVEL)."
    )
    var logLevel: String?
    @Option(
        help:
            "simulator (default) or twilio (env TEXTCREDITS_PROVIDER; Twilio reads TEXTCREDITS_TWILIO_ACCOUNT_SID, TEXTCREDITS_TWILIO_AUTH_TOKEN, TEXTCREDITS_TWILIO_API_URL)."
    )
    var provider: String?
    @Option(
        help:
            "sandbox (default) or stripe (env TEXTCREDITS_GATEWAY; Stripe reads TEXTCREDITS_STRIPE_SECRET_KEY, TEXTCREDITS_STRIPE_API_URL). Invoices name the seller from TEXTCREDITS_SELLER_NAME, TEXTCREDITS_SELLER_ADDRESS, TEXTCREDITS_SELLER_TAX_ID."
    )
    var gateway: String?
    @Option(
        help:
            "outbox (default: mail is kept and listed at GET /v1/mail) or smtp (env TEXTCREDITS_MAIL; SMTP reads TEXTCREDITS_SMTP_HOST, TEXTCREDITS_SMTP_PORT (587), TEXTCREDITS_SMTP_USERNAME, TEXTCREDITS_SMTP_PASSWORD, TEXTCREDITS_SMTP_FROM, TEXTCREDITS_SMTP_SECURITY (starttls or none))."
    )
    var mail: String?
    @Option(
        name: .customLong("simulator-delay"),
        help: "Seconds before the Simulator reports delivery (env TEXTCREDITS_SIMULATOR_DELAY; default 1)."
    )
    var simulatorDelay: Double?
    @Option(
        name: .customLong("rate-per-number"),
        help: "Most texts per second from one number (env TEXTCREDITS_RATE_PER_NUMBER; default 500)."
    )
    var ratePerNumber: Int?
    @Option(
        name: .customLong("call-minutes-max"),
        help:
            "The longest click-to-call or forwarded call in minutes, whatever the balance (env TEXTCREDITS_CALL_MINUTES_MAX; default 60)."
    )
    var callMinutesMax: Int?
    @Flag(
        name: .customLong("allow-signup"),
        help:
            "Open the public /sign-up page, where anyone may create an organisation and its owner (env TEXTCREDITS_ALLOW_SIGNUP=true; default off)."
    )
    var allowSignup = false
    @Flag(
        name: .customLong("webhooks-allow-private"),
        help:
            "Let webhook endpoints be plain http or on private and local addresses, e.g. a system inside the office network (env TEXTCREDITS_WEBHOOKS_ALLOW_PRIVATE=true; default off: https on the internet only)."
    )
    var webhooksAllowPrivate = false
    @Option(
        name: .customLong("plans-file"),
        help:
            "A JSON plan catalogue defined at start (env TEXTCREDITS_PLANS_FILE; README: Plans and subscriptions)."
    )
    var plansFile: String?
    @Option(
        name: .customLong("number-credits"),
        help:
            "Credits each phone number costs a month, e.g. local=125,toll_free=125,AU.local=150 (env TEXTCREDITS_NUMBER_CREDITS; default 125)."
    )
    var numberCredits: String?
    @Option(
        name: .customLong("short-code"),
        help:
            "The shared short code organisations may rent a keyword on, 5 or 6 digits (env TEXTCREDITS_SHORT_CODE; the Simulator's is 55222)."
    )
    var shortCode: String?
    @Option(
        name: .customLong("short-code-monthly"),
        help:
            "The short-code keyword's monthly price per country, e.g. US=5.00,CA=5.00 (env TEXTCREDITS_SHORT_CODE_MONTHLY; default US and CA $5.00)."
    )
    var shortCodeMonthly: String?
    @Option(
        name: .customLong("shutdown-timeout"),
        help:
            "Seconds in-flight requests and background passes get to finish after SIGTERM or SIGINT before they are cancelled (env TEXTCREDITS_SHUTDOWN_TIMEOUT; default 30)."
    )
    var shutdownTimeout: Int?

    func run() async throws {
        LineLogHandler.bootstrap()
        let configuration = try resolvedConfiguration()
        let application = try await buildApplication(configuration)
        if let note = configuration.sellerNote {
            var logger = Logger(label: "textcredits")
            logger.logLevel = configuration.logLevel
            logger.notice("\(note)")
        }
        try await serve(application, configuration: configuration)
    }

    /// Flags, then environment, then defaults (the server reads them: `AppConfiguration(reading:)`).
    func resolvedConfiguration() throws -> AppConfiguration {
        let flags: [String: String?] = [
            "host": host, "port": port.map(String.init), "database": database.database, "public_url": publicURL,
            "trusted_proxies": trustedProxies.isEmpty ? nil : trustedProxies.joined(separator: ","),
            "log_level": logLevel,
            "provider": provider, "gateway": gateway, "mail": mail,
            "simulator_delay": simulatorDelay.map { String($0) },
            "rate_per_number": ratePerNumber.map(String.init),
            "call_minutes_max": callMinutesMax.map(String.init),
            "allow_signup": allowSignup ? "true" : nil,
            "webhooks_allow_private": webhooksAllowPrivate ? "true" : nil,
            "plans_file": plansFile, "number_credits": numberCredits,
            "short_code": shortCode, "short_code_monthly": shortCodeMonthly,
            "shutdown_timeout": shutdownTimeout.map(String.init),
        ]
        do {
            return try AppConfiguration(reading: AppConfiguration.reader(flags: flags.compactMapValues { $0 }))
        } catch {
            throw ValidationError(error.description)
        }
    }
}
