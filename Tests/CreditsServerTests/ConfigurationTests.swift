import Configuration
import CreditsAdapters
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import Synchronization
import Testing

/// The server's settings: flags over environment over defaults, refused in the operator's words,
/// and secrets never shown.
@Suite struct ConfigurationTests {
    func configuration(flags: [String: String] = [:], environment: [String: String] = [:]) throws(ConfigurationError)
        -> AppConfiguration
    {
        try AppConfiguration(reading: AppConfiguration.reader(flags: flags, environment: environment))
    }

    @Test func withNothingSetTheServerRunsOnTheEmbeddedDefaults() throws {
        let config = try configuration()
        #expect(config.host == "127.0.0.1")
        #expect(config.port == 8080)
        #expect(config.database == .embeddedDefault)
        #expect(config.provider.name == "simulator")
        guard case .sandbox = config.gateway else { throw ConfigurationError("expected the Sandbox") }
        guard case .outbox = config.mail else { throw ConfigurationError("expected the Outbox") }
        #expect(config.seller == Seller())
    }

    @Test func trustedProxiesAreIPAddresses() throws {
        #expect(try configuration().trustedProxies == [])
        #expect(
            try configuration(environment: ["TEXTCREDITS_TRUSTED_PROXIES": "127.0.0.1, ::1"]).trustedProxies
                == ["127.0.0.1", "::1"]
        )
        #expect(throws: ConfigurationError.self) {
            try configuration(flags: ["trusted_proxies": "proxy.example"])
        }
    }

    @Test func aFlagWinsOverTheEnvironmentWhichWinsOverTheDefault() throws {
        #expect(try configuration(environment: ["TEXTCREDITS_PORT": "9090"]).port == 9090)
        #expect(try configuration(flags: ["port": "9191"], environment: ["TEXTCREDITS_PORT": "9090"]).port == 9191)
        #expect(
            try configuration(environment: ["TEXTCREDITS_PORT": ""]).port == 8080,
            "an empty variable counts as unset"
        )
        let database = try configuration(
            flags: ["database": "sqlite:/tmp/flag.sqlite"],
            environment: ["TEXTCREDITS_DATABASE": "sqlite:/tmp/env.sqlite"]
        )
        #expect(database.database == .sqlite(path: "/tmp/flag.sqlite"))
    }

    @Test func badSettingsAreRefusedInTheOperatorsWords() {
        let cases: [([String: String], String)] = [
            (["TEXTCREDITS_PORT": "eighty"], "TEXTCREDITS_PORT must be a number."),
            (["TEXTCREDITS_PORT": "70000"], "The port must be 1–65535."),
            (
                ["TEXTCREDITS_PROVIDER": "twilio"],
                "--provider twilio needs TEXTCREDITS_TWILIO_ACCOUNT_SID and TEXTCREDITS_TWILIO_AUTH_TOKEN."
            ),
            (["TEXTCREDITS_PROVIDER": "nexmo"], "Unknown provider nexmo; use simulator or twilio."),
            (["TEXTCREDITS_GATEWAY": "stripe"], "--gateway stripe needs TEXTCREDITS_STRIPE_SECRET_KEY."),
            (
                ["TEXTCREDITS_MAIL": "smtp", "TEXTCREDITS_SMTP_HOST": "mail.example"],
                "--mail smtp needs TEXTCREDITS_SMTP_HOST and TEXTCREDITS_SMTP_FROM."
            ),
            (["TEXTCREDITS_LOG_LEVEL": "loud"], "Unknown log level loud."),
            (["TEXTCREDITS_RATE_PER_NUMBER": "0"], "--rate-per-number must be at least 1."),
            (["TEXTCREDITS_SIMULATOR_DELAY": "-1"], "--simulator-delay must be 0–3600 seconds."),
        ]
        for (environment, message) in cases {
            #expect(throws: ConfigurationError.self, "\(environment)") {
                do {
                    _ = try configuration(environment: environment)
                } catch let error as ConfigurationError {
                    #expect(error.description == message)
                    throw error
                }
            }
        }
    }

    @Test func providersGatewaysMailAndTheSellerComeFromTheEnvironment() throws {
        let config = try configuration(environment: [
            "TEXTCREDITS_PROVIDER": "twilio", "TEXTCREDITS_TWILIO_ACCOUNT_SID": "AC123",
            "TEXTCREDITS_TWILIO_AUTH_TOKEN": "token-1",
            "TEXTCREDITS_GATEWAY": "stripe", "TEXTCREDITS_STRIPE_SECRET_KEY": "sk_test_1",
            "TEXTCREDITS_MAIL": "smtp", "TEXTCREDITS_SMTP_HOST": "mail.example",
            "TEXTCREDITS_SMTP_FROM": "credits@example.com",
            "TEXTCREDITS_SMTP_PORT": "2525", "TEXTCREDITS_SMTP_SECURITY": "none",
            "TEXTCREDITS_SELLER_NAME": "TextCredits Pty Ltd", "TEXTCREDITS_SELLER_ADDRESS": "1 Main St\\nSydney",
            "TEXTCREDITS_SELLER_TAX_ID": "ABN 1",
        ])
        guard case .twilio(let twilio) = config.provider, case .stripe(let stripe) = config.gateway,
            case .smtp(let smtp) = config.mail
        else {
            throw ConfigurationError("expected Twilio, Stripe and SMTP")
        }
        #expect(twilio.accountSID == "AC123" && twilio.authToken == "token-1")
        #expect(stripe.secretKey == "sk_test_1")
        #expect(
            smtp.host == "mail.example" && smtp.port == 2525 && smtp.security == .none
                && smtp.from == "credits@example.com"
        )
        #expect(config.seller == Seller(name: "TextCredits Pty Ltd", address: "1 Main St\nSydney", taxID: "ABN 1"))
    }

    /// Collects what the configuration reader reports about each setting it reads.
    final class Reports: AccessReporter, Sendable {
        let lines = Mutex<[String]>([])
        func report(_ event: AccessEvent) { lines.withLock { $0.append(event.description) } }
    }

    @Test func secretsNeverReachTheAccessLog() throws {
        let reports = Reports()
        let reader = AppConfiguration.reader(
            flags: ["database": "postgres://textcredits:hunter2-password@db.example:5432/textcredits"],
            environment: [
                "TEXTCREDITS_GATEWAY": "stripe", "TEXTCREDITS_STRIPE_SECRET_KEY": "sk_live_very_secret",
                "TEXTCREDITS_HOST": "0.0.0.0",
            ],
            accessReporter: reports
        )
        _ = try AppConfiguration(reading: reader)
        let log = reports.lines.withLock { $0 }.joined(separator: "\n")
        #expect(log.contains("textcredits.stripe.secret_key"))
        #expect(log.contains("0.0.0.0"), "ordinary values are shown")
        #expect(!log.contains("sk_live_very_secret"))
        #expect(!log.contains("hunter2-password"))
    }
}
