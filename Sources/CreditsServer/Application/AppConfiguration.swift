import CreditsAdapters
import CreditsCore
import CreditsServices
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
    /// Addresses of proxies whose `X-Forwarded-For/-Proto/-Host` headers are believed.
    public var trustedProxies: [String] = []
    /// The bearer token `/metrics` wants; without one, metrics are not served.
    public var metricsToken: String?
    /// Prices per channel.
    public var prices: PriceList = .standard
    /// What a credit costs by country, with tax.
    public var creditPrices: CreditPrices = .standard
    /// Which payment gateway charges purchases.
    public var gateway: GatewayChoice = .sandbox
    /// Who issues invoices (shown at the top of each tax invoice).
    public var seller = Seller()
    /// Where mail goes: kept in the Outbox (default) or handed to a mail server.
    public var mail: MailChoice = .outbox
    /// Log level of the server's logger.
    public var logLevel: Logger.Level = .info
    /// Start background workers (off in route tests that drive time themselves).
    public var runsWorkers: Bool = true
    /// Which SMS provider sends texts.
    public var provider: ProviderChoice = .simulator
    /// Simulator: how long before it reports delivery.
    public var simulatorDelay: Duration = .seconds(1)
    /// Simulator: how long brand and number registrations take.
    public var simulatorRegistrationDelay: TimeInterval = 3
    /// Most texts per second from one sending number (per server process).
    public var ratePerNumber: Int = 500
    /// How long a message's hold waits for its final status before the timeout policy applies.
    public var holdTimeout: TimeInterval = 72 * 3600
    /// The longest a click-to-call or forwarded call may last, in minutes, whatever the balance
    /// (its hold is what the balance allows up to this).
    public var callMinutesMax: Int = 60
    /// How long a call waits for its provider's final report before it is settled by what is known.
    public var callReportTimeout: TimeInterval = 6 * 3600
    /// How often workers look for due work when idle.
    public var pollInterval: Duration = .milliseconds(200)
    /// How long `serve` lets in-flight requests and the workers' passes finish after SIGTERM or
    /// SIGINT before it cancels them.
    public var shutdownTimeout: Duration = .seconds(30)
    /// Whether anyone may create an organisation on the public `/sign-up` page (off by default:
    /// organisations are made by the operator with `textcredits orgs create`).
    public var allowSignup: Bool = false
    /// Whether webhook endpoints may be plain http or on private and local addresses (off by
    /// default: https on the internet only, so no organisation can make the server call into the
    /// network it runs in).
    public var webhooksAllowPrivate: Bool = false
    /// The plan catalogue read from `--plans-file` (defined at start; plans defined with
    /// `textcredits plans define` are kept as well).
    public var catalogue: [CataloguePlan] = []
    /// What each phone number costs in credits a month.
    public var numberCharges: NumberCharges = .standard
    /// The operator's shared short code organisations may rent a keyword on (the Simulator's is
    /// 55222 unless another is set; none with Twilio unless set).
    public var shortCode: String?
    /// The keyword's monthly price per country (PastorsLine: $5/month); countries without one
    /// are not offered it.
    public var shortCodeMonthlyCents: [Country: Int64] = [.us: 500, .ca: 500]

    public init() {}

    /// The base URL callbacks and links use.
    public var baseURL: String { publicURL ?? "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)" }
}

/// The SMS provider a server uses.
public enum ProviderChoice: Sendable {
    /// The built-in Simulator (default): usable on a fresh machine.
    case simulator
    /// Twilio's REST API.
    case twilio(TwilioConfiguration)

    public var name: String {
        switch self {
        case .simulator: "simulator"
        case .twilio: "twilio"
        }
    }
}

/// The payment gateway a server uses.
public enum GatewayChoice: Sendable {
    /// The built-in Sandbox (default): Stripe's test cards, no money moves.
    case sandbox
    /// Stripe's REST API.
    case stripe(StripeConfiguration)
}

/// How the server sends mail.
public enum MailChoice: Sendable {
    /// Kept in the database and listed at `GET /v1/mail` (default).
    case outbox
    /// Queued, then handed to an SMTP server by the maintenance worker.
    case smtp(SMTPConfiguration)

    /// The status a new mail starts in.
    var newMailStatus: MailStatus {
        switch self {
        case .outbox: .stored
        case .smtp: .queued
        }
    }

    /// The client that delivers queued mail (none with the Outbox).
    var client: SMTPClient? {
        switch self {
        case .outbox: nil
        case .smtp(let configuration): SMTPClient(configuration: configuration)
        }
    }
}
