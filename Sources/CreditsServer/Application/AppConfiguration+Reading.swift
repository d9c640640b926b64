import Configuration
import CreditsAdapters
import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Logging
import NIOCore

/// A setting that cannot be used; the message names it as the operator wrote it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

extension AppConfiguration {
    /// Where settings come from, highest first: the command line's flags, then the environment.
    /// Every key below is read under `textcredits`, so `twilio.auth_token` is the variable
    /// `TEXTCREDITS_TWILIO_AUTH_TOKEN`; secrets are marked so that no access log shows them
    /// (`CONFIG_ACCESS_LOG_FILE=PATH` logs every setting read, secrets redacted).
    public static func reader(
        flags: [String: String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        accessReporter: (any AccessReporter)? = nil
    ) -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in flags {
            values[AbsoluteConfigKey(ConfigKey("textcredits." + key))] = ConfigValue(
                .string(value),
                isSecret: secretKeys.contains(key)
            )
        }
        let secretVariables = Set(
            secretKeys.map { "TEXTCREDITS_" + $0.uppercased().replacingOccurrences(of: ".", with: "_") }
        )
        return ConfigReader(
            providers: [
                InMemoryProvider(name: "command line", values: values),
                EnvironmentVariablesProvider(
                    environmentVariables: environment,
                    secretsSpecifier: .specific(secretVariables)
                ),
            ],
            accessReporter: accessReporter
        )
    }

    /// Keys whose values are secrets.
    static let secretKeys: Set<String> = [
        "database", "twilio.auth_token", "stripe.secret_key", "smtp.password", "metrics_token",
    ]

    /// Reads the server's configuration; what is not set keeps its default.
    public init(reading root: ConfigReader) throws(ConfigurationError) {
        self.init()
        let config = Settings(reader: root.scoped(to: "textcredits"))
        // host — the interface to listen on (default 127.0.0.1).
        host = config.text("host") ?? host
        // port — the port to listen on, 1–65535 (default 8080).
        port = try config.number("port", in: 1...65535, name: "The port") ?? port
        // database — sqlite:PATH or postgres://user:password@host:port/database (secret: it may hold a password).
        database = try AppConfiguration.database(root)
        // public_url — the URL the server is reached at, for provider callbacks and links.
        publicURL = config.text("public_url")
        // trusted_proxies — comma-separated IP addresses of proxies in front of the server; only
        // their X-Forwarded-For, -Proto and -Host headers are believed (default none).
        trustedProxies = try AppConfiguration.addresses(config.text("trusted_proxies"))
        // metrics_token (secret) — the bearer token Prometheus sends to /metrics; unset, /metrics is off.
        metricsToken = config.text("metrics_token", secret: true)
        // log_level — trace, debug, info, notice, warning or error (default info).
        if let level = config.text("log_level") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw ConfigurationError("Unknown log level \(level).")
            }
            logLevel = parsed
        }
        provider = try AppConfiguration.provider(config)
        gateway = try AppConfiguration.gateway(config)
        mail = try AppConfiguration.mail(config)
        // seller.name, seller.address (\n for new lines), seller.tax_id — who issues the invoices.
        if let name = config.text("seller.name") { seller.name = name }
        seller.address = config.text("seller.address")?.replacingOccurrences(of: "\\n", with: "\n")
        seller.taxID = config.text("seller.tax_id")
        // simulator_delay — seconds before the Simulator reports delivery, 0–3600 (default 1).
        if let text = config.text("simulator_delay") {
            guard let delay = Double(text), delay >= 0, delay <= 3600 else {
                throw ConfigurationError("--simulator-delay must be 0–3600 seconds.")
            }
            simulatorDelay = .milliseconds(Int(delay * 1000))
        }
        // rate_per_number — most texts per second from one number, at least 1 (default 500).
        ratePerNumber =
            try config.number("rate_per_number", in: 1...Int.max, name: "--rate-per-number") ?? ratePerNumber
        // shutdown_timeout — seconds in-flight requests and the workers' passes get to finish after
        // SIGTERM or SIGINT before they are cancelled, 1–3600 (default 30).
        if let seconds = try config.number("shutdown_timeout", in: 1...3600, name: "--shutdown-timeout") {
            shutdownTimeout = .seconds(seconds)
        }
        // call_minutes_max — the longest click-to-call or forwarded call, 1–240 minutes (default 60).
        callMinutesMax =
            try config.number("call_minutes_max", in: 1...240, name: "--call-minutes-max") ?? callMinutesMax
        // plans_file — a JSON plan catalogue (README: "Plans and subscriptions"), defined at start.
        if let path = config.text("plans_file") { catalogue = try AppConfiguration.catalogue(path) }
        // number_credits — credits each phone number costs a month: "local=125,toll_free=125",
        // with country overrides such as "AU.local=150" (default 125 each; test numbers are free).
        if let text = config.text("number_credits") {
            guard let charges = NumberCharges.parse(text) else {
                throw ConfigurationError(
                    "--number-credits must read like local=125,toll_free=125,AU.local=150 (0–100000 credits)."
                )
            }
            numberCharges = charges
        }
        // short_code — the shared short code (5 or 6 digits) organisations may rent a keyword on.
        if let text = config.text("short_code") {
            guard (5...6).contains(text.count), text.allSatisfy(\.isASCIIDigit) else {
                throw ConfigurationError("--short-code must be a short code of 5 or 6 digits, e.g. 55222.")
            }
            shortCode = text
        }
        // short_code_monthly — the keyword's monthly price per country: "US=5.00,CA=5.00".
        if let text = config.text("short_code_monthly") {
            var prices: [Country: Int64] = [:]
            for item in text.split(separator: ",") {
                guard let (country, cents) = Money.countryPrice(String(item)) else {
                    throw ConfigurationError("--short-code-monthly must read like US=5.00,CA=5.00.")
                }
                prices[country] = cents
            }
            shortCodeMonthlyCents = prices
        }
        // allow_signup — true to open the public /sign-up page that creates an organisation and its
        // owner (default false).
        if let text = config.text("allow_signup") {
            switch text.lowercased() {
            case "true", "1", "yes", "on": allowSignup = true
            case "false", "0", "no", "off": allowSignup = false
            default: throw ConfigurationError("TEXTCREDITS_ALLOW_SIGNUP must be true or false.")
            }
        }
        // webhooks_allow_private — true to let webhook endpoints be plain http or on private and
        // local addresses (default false: https on the internet only).
        if let text = config.text("webhooks_allow_private") {
            switch text.lowercased() {
            case "true", "1", "yes", "on": webhooksAllowPrivate = true
            case "false", "0", "no", "off": webhooksAllowPrivate = false
            default: throw ConfigurationError("TEXTCREDITS_WEBHOOKS_ALLOW_PRIVATE must be true or false.")
            }
        }
    }

    /// The plans of a catalogue file, or why it cannot be used.
    static func catalogue(_ path: String) throws(ConfigurationError) -> [CataloguePlan] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("The plans file \(path) cannot be read.")
        }
        let file: PlanCatalogueFile
        do {
            file = try JSONDecoder().decode(PlanCatalogueFile.self, from: data)
        } catch {
            throw ConfigurationError("The plans file \(path) is not a plan catalogue: \(error).")
        }
        switch file.catalogue() {
        case .success(let plans): return plans
        case .failure(let error): throw ConfigurationError("The plans file \(path): \(error.description)")
        }
    }

    /// A comma-separated list of IP addresses; anything else is refused, naming it.
    static func addresses(_ text: String?) throws(ConfigurationError) -> [String] {
        guard let text else { return [] }
        var addresses: [String] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            guard let address = try? SocketAddress(ipAddress: part, port: 0).ipAddress else {
                throw ConfigurationError("--trusted-proxy \(part) is not an IP address.")
            }
            addresses.append(address)
        }
        return addresses
    }

    /// The database URL alone (every command that touches data reads it).
    public static func database(_ root: ConfigReader) throws(ConfigurationError) -> DatabaseURL {
        guard let text = Settings(reader: root.scoped(to: "textcredits")).text("database", secret: true) else {
            return .embeddedDefault
        }
        do {
            return try DatabaseURL(parsing: text)
        } catch {
            throw ConfigurationError(error.description)
        }
    }

    /// log_level alone, nil when unset or unknown (one-shot commands log warnings unless told otherwise).
    public static func logLevel(_ root: ConfigReader) -> Logger.Level? {
        Settings(reader: root.scoped(to: "textcredits")).text("log_level").flatMap(Logger.Level.init(rawValue:))
    }

    /// provider — simulator (default) or twilio, with twilio.account_sid, twilio.auth_token
    /// (secret), twilio.api_url, twilio.messaging_url, twilio.customer_profile and twilio.a2p_profile.
    static func provider(_ config: Settings) throws(ConfigurationError) -> ProviderChoice {
        switch config.text("provider") ?? "simulator" {
        case "simulator": return .simulator
        case "twilio":
            guard let sid = config.text("twilio.account_sid"),
                let token = config.text("twilio.auth_token", secret: true)
            else {
                throw ConfigurationError(
                    "--provider twilio needs TEXTCREDITS_TWILIO_ACCOUNT_SID and TEXTCREDITS_TWILIO_AUTH_TOKEN."
                )
            }
            return .twilio(
                TwilioConfiguration(
                    accountSID: sid,
                    authToken: token,
                    apiURL: config.text("twilio.api_url") ?? "https://api.twilio.com",
                    messagingURL: config.text("twilio.messaging_url") ?? "https://messaging.twilio.com",
                    customerProfileBundleSID: config.text("twilio.customer_profile"),
                    a2pProfileBundleSID: config.text("twilio.a2p_profile")
                )
            )
        case let other: throw ConfigurationError("Unknown provider \(other); use simulator or twilio.")
        }
    }

    /// gateway — sandbox (default) or stripe, with stripe.secret_key (secret) and stripe.api_url.
    static func gateway(_ config: Settings) throws(ConfigurationError) -> GatewayChoice {
        switch config.text("gateway") ?? "sandbox" {
        case "sandbox": return .sandbox
        case "stripe":
            guard let key = config.text("stripe.secret_key", secret: true) else {
                throw ConfigurationError("--gateway stripe needs TEXTCREDITS_STRIPE_SECRET_KEY.")
            }
            return .stripe(
                StripeConfiguration(secretKey: key, apiURL: config.text("stripe.api_url") ?? "https://api.stripe.com")
            )
        case let other: throw ConfigurationError("Unknown gateway \(other); use sandbox or stripe.")
        }
    }

    /// mail — outbox (default) or smtp, with smtp.host, smtp.port (587), smtp.username,
    /// smtp.password (secret), smtp.from and smtp.security (starttls, the default, or none).
    static func mail(_ config: Settings) throws(ConfigurationError) -> MailChoice {
        switch config.text("mail") ?? "outbox" {
        case "outbox": return .outbox
        case "smtp":
            guard let host = config.text("smtp.host"), let from = config.text("smtp.from") else {
                throw ConfigurationError("--mail smtp needs TEXTCREDITS_SMTP_HOST and TEXTCREDITS_SMTP_FROM.")
            }
            guard let security = SMTPConfiguration.Security(rawValue: config.text("smtp.security") ?? "starttls") else {
                throw ConfigurationError("TEXTCREDITS_SMTP_SECURITY must be starttls or none.")
            }
            return .smtp(
                SMTPConfiguration(
                    host: host,
                    port: config.text("smtp.port").flatMap(Int.init) ?? 587,
                    username: config.text("smtp.username"),
                    password: config.text("smtp.password", secret: true),
                    security: security,
                    from: from
                )
            )
        case let other: throw ConfigurationError("Unknown mail transport \(other); use outbox or smtp.")
        }
    }
}

/// Reads settings as text, an empty value counting as unset, and parses them in our own words.
struct Settings {
    let reader: ConfigReader

    /// A setting's text, or nil when it is unset or empty. The access log names the caller's line.
    func text(_ key: String, secret: Bool = false, fileID: String = #fileID, line: UInt = #line) -> String? {
        let isSecret = secret || AppConfiguration.secretKeys.contains(key)
        guard let value = reader.string(forKey: ConfigKey(key), isSecret: isSecret, fileID: fileID, line: line),
            !value.isEmpty
        else {
            return nil
        }
        return value
    }

    /// A whole number within `range`, or nil when unset.
    func number(_ key: String, in range: ClosedRange<Int>, name: String, fileID: String = #fileID, line: UInt = #line)
        throws(ConfigurationError) -> Int?
    {
        guard let text = text(key, fileID: fileID, line: line) else { return nil }
        let variable = "TEXTCREDITS_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
        guard let value = Int(text) else { throw ConfigurationError("\(variable) must be a number.") }
        guard range.contains(value) else {
            throw ConfigurationError(
                range.upperBound == Int.max
                    ? "\(name) must be at least \(range.lowerBound)."
                    : "\(name) must be \(range.lowerBound)–\(range.upperBound)."
            )
        }
        return value
    }
}
