import CreditsAdapters
import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Logging
import Synchronization

/// Every store of one database, built once by the composition root.
public struct Stores: Sendable {
    public let ledger: SQLLedgerStore
    public let organizations: OrganizationStore
    public let contacts: ContactStore
    public let messages: MessageStore
    public let conversations: ConversationStore
    public let numbers: NumberStore
    public let simulator: SimulatorStore
    public let billing: BillingStore
    public let autoRenew: AutoRenewStore
    public let mail: MailStore
    public let plans: PlanStore
    public let catalogue: PlanCatalogueStore
    public let media: MediaStore
    public let sessions: WebSessionStore
    public let signIns: SignInStore
    public let contactImports: ContactImportStore
    public let contactUploads: ContactUploadStore
    public let passwordResets: PasswordResetStore
    public let shortCodes: ShortCodeStore
    public let calls: CallStore
    public let webhooks: WebhookStore

    init(database: any Database) {
        ledger = SQLLedgerStore(database: database)
        organizations = OrganizationStore(database: database)
        contacts = ContactStore(database: database)
        messages = MessageStore(database: database)
        conversations = ConversationStore(database: database)
        numbers = NumberStore(database: database)
        simulator = SimulatorStore(database: database)
        billing = BillingStore(database: database)
        autoRenew = AutoRenewStore(database: database)
        mail = MailStore(database: database)
        plans = PlanStore(database: database)
        catalogue = PlanCatalogueStore(database: database)
        media = MediaStore(database: database)
        sessions = WebSessionStore(database: database)
        signIns = SignInStore(database: database)
        contactImports = ContactImportStore(database: database)
        contactUploads = ContactUploadStore(database: database)
        passwordResets = PasswordResetStore(database: database)
        shortCodes = ShortCodeStore(database: database)
        calls = CallStore(database: database)
        webhooks = WebhookStore(database: database)
    }
}

/// What the composition root built: the stores, the adapters and the services, each service
/// given only what it uses. Entry points read it (the router and the background jobs take their
/// services from it, as do the CLI, the benchmarks and the tests); no service is built with it.
public struct AppServices: Sendable {
    public let configuration: AppConfiguration
    public let database: any Database
    public let stores: Stores
    public let logger: Logger
    /// The clock every rule is given; tests inject their own.
    public let now: @Sendable () -> Date

    // Adapters.
    /// The provider texts go through.
    public let provider: any SMSProvider
    /// The Simulator, when it is the provider (its callbacks run as a job).
    public let simulator: SimulatorProvider?
    /// The gateway purchases are charged through.
    public let gateway: any PaymentGateway

    // Services, lowest first (ARCHITECTURE.md draws the graph).
    public let facts: Facts
    public let principals: PrincipalResolver
    public let credits: CreditService
    public let notices: NoticeService
    public let alerts: AlertService
    public let webhooks: WebhookService
    public let webhookDispatcher: WebhookDispatcher
    public let creditWatch: WebhookCreditWatch
    public let mailDelivery: MailDelivery
    public let settlement: SettlementService
    public let sendingNumbers: SendingNumbers
    public let media: MediaService
    public let messaging: MessagingService
    public let conversations: ConversationService
    public let contacts: ContactService
    public let contactImports: ContactImportService
    public let contactUploads: ContactUploadService
    public let optIns: OptInService
    public let inbound: InboundService
    public let dispatcher: Dispatcher
    public let callSettlement: CallSettlementService
    public let voice: VoiceService
    public let callFlow: CallFlowService
    public let callDispatcher: CallDispatcher
    public let registration: RegistrationService
    public let billing: BillingService
    public let autoRenew: AutoRenewService
    public let plans: PlanService
    public let subscriptions: SubscriptionService
    public let shortCodes: ShortCodeService
    public let administration: AdministrationService
    public let sessions: SessionService
    public let passwordResets: PasswordResetService
    public let signUps: SignUpService
    public let auditLog: AuditLog

    private let address: BoundAddress

    /// The URL providers call back: the configured public URL, or the address the server
    /// actually listens on.
    public var baseURL: String { address.baseURL }

    /// Records the address the server bound (port 0 picks a free one).
    public func serverBound(host: String, port: Int) { address.bound(host: host, port: port) }

    /// The composition root: builds the stores, the adapters and then the services in dependency
    /// order, and subscribes the services that act on facts. Reads or creates the Simulator's
    /// signing secret.
    public static func build(
        configuration: AppConfiguration,
        database: any Database,
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) async throws -> AppServices {
        let stores = Stores(database: database)
        let simulator: SimulatorProvider?
        let provider: any SMSProvider
        switch configuration.provider {
        case .simulator:
            let token = try await stores.numbers.secret(
                "simulator_auth_token",
                orCreate: APIKeys.randomText(bytes: 20),
                at: now()
            )
            let made = SimulatorProvider(
                authToken: token,
                log: SimulatorDatabaseLog(store: stores.simulator, now: now, logger: logger),
                callbackDelay: configuration.simulatorDelay,
                registrationDelay: configuration.simulatorRegistrationDelay,
                logger: logger
            )
            simulator = made
            provider = made
        case .twilio(let twilio):
            simulator = nil
            provider = TwilioProvider(configuration: twilio, logger: logger)
        }
        let gateway: any PaymentGateway =
            switch configuration.gateway {
            case .sandbox: SandboxGateway(log: SandboxDatabaseLog(store: stores.billing, now: now), now: now)
            case .stripe(let stripe): StripeGateway(configuration: stripe)
            }
        for plan in configuration.catalogue { try await stores.catalogue.define(plan, at: now()) }
        return AppServices(
            configuration: configuration,
            database: database,
            stores: stores,
            provider: provider,
            simulator: simulator,
            gateway: gateway,
            now: now,
            logger: logger
        )
    }

    private init(
        configuration: AppConfiguration,
        database: any Database,
        stores: Stores,
        provider: any SMSProvider,
        simulator: SimulatorProvider?,
        gateway: any PaymentGateway,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.configuration = configuration
        self.database = database
        self.stores = stores
        self.provider = provider
        self.simulator = simulator
        self.gateway = gateway
        self.now = now
        self.logger = logger
        let address = BoundAddress(configuration: configuration)
        self.address = address
        let ledger = Ledger(store: stores.ledger)
        let prices = configuration.prices
        let newMail = configuration.mail.newMailStatus

        facts = Facts()
        principals = PrincipalResolver(organizations: stores.organizations, now: now)
        credits = CreditService(
            ledgerStore: stores.ledger,
            ledger: ledger,
            organizations: stores.organizations,
            plans: stores.plans,
            numbers: stores.numbers,
            numberCharges: configuration.numberCharges,
            database: database,
            principals: principals,
            facts: facts,
            now: now
        )
        creditWatch = WebhookCreditWatch(
            database: database,
            store: stores.webhooks,
            credits: credits,
            now: now,
            logger: logger
        )
        notices = NoticeService(
            autoRenew: stores.autoRenew,
            ledgerStore: stores.ledger,
            plans: stores.plans,
            billing: stores.billing
        )
        alerts = AlertService(credits: credits, mail: stores.mail, newMailStatus: newMail, now: now, logger: logger)
        mailDelivery = MailDelivery(mail: stores.mail, client: configuration.mail.client, now: now, logger: logger)
        webhooks = WebhookService(
            store: stores.webhooks,
            allowPrivateURLs: configuration.webhooksAllowPrivate,
            now: now
        )
        webhookDispatcher = WebhookDispatcher(
            store: stores.webhooks,
            organizations: stores.organizations,
            sender: HTTPWebhookSender(),
            newMailStatus: newMail,
            now: now,
            logger: logger
        )
        settlement = SettlementService(
            database: database,
            ledgerStore: stores.ledger,
            messages: stores.messages,
            prices: prices,
            holdTimeout: configuration.holdTimeout,
            now: now,
            logger: logger
        )
        sendingNumbers = SendingNumbers(store: stores.numbers, givesTestNumbers: simulator != nil, now: now)
        media = MediaService(store: stores.media, secrets: stores.numbers, baseURL: { address.baseURL }, now: now)
        messaging = MessagingService(
            database: database,
            ledgerStore: stores.ledger,
            credits: credits,
            contacts: stores.contacts,
            messages: stores.messages,
            numbers: sendingNumbers,
            media: media,
            settlement: settlement,
            facts: facts,
            prices: prices,
            holdTimeout: configuration.holdTimeout,
            now: now
        )
        conversations = ConversationService(
            conversations: stores.conversations,
            contacts: stores.contacts,
            credits: credits,
            messaging: messaging,
            numbers: sendingNumbers,
            facts: facts,
            prices: prices,
            now: now
        )
        contacts = ContactService(contacts: stores.contacts, database: database, messaging: messaging, now: now)
        contactImports = ContactImportService(store: stores.contactImports, database: database, now: now)
        contactUploads = ContactUploadService(uploads: stores.contactUploads, imports: contactImports, now: now)
        optIns = OptInService(
            store: OptInStore(database: database),
            organizations: stores.organizations,
            contacts: stores.contacts,
            messaging: messaging,
            numbers: sendingNumbers,
            now: now
        )
        // The shared short code: the operator's, else the Simulator's own.
        let shortCode = configuration.shortCode ?? (simulator != nil ? "55222" : nil)
        inbound = InboundService(
            database: database,
            numbers: stores.numbers,
            shortCodes: stores.shortCodes,
            shortCode: shortCode,
            organizations: stores.organizations,
            contacts: stores.contacts,
            messaging: messaging,
            optIns: optIns,
            media: media,
            messages: stores.messages,
            provider: provider,
            now: now
        )
        dispatcher = Dispatcher(
            messages: stores.messages,
            contacts: stores.contacts,
            provider: provider,
            rateLimiter: RateLimiter(perSecond: configuration.ratePerNumber),
            settlement: settlement,
            media: media,
            callbackBaseURL: { address.baseURL },
            now: now,
            logger: logger
        )
        callSettlement = CallSettlementService(
            database: database,
            ledgerStore: stores.ledger,
            contacts: stores.contacts,
            calls: stores.calls,
            prices: prices,
            now: now,
            logger: logger
        )
        voice = VoiceService(
            database: database,
            ledgerStore: stores.ledger,
            credits: credits,
            calls: stores.calls,
            mediaStore: stores.media,
            messaging: messaging,
            numbers: sendingNumbers,
            facts: facts,
            prices: prices,
            holdTimeout: configuration.holdTimeout,
            callMinutesMax: configuration.callMinutesMax,
            now: now
        )
        callFlow = CallFlowService(
            database: database,
            ledgerStore: stores.ledger,
            credits: credits,
            calls: stores.calls,
            numbers: stores.numbers,
            media: media,
            provider: provider,
            settlement: callSettlement,
            prices: prices,
            holdTimeout: configuration.holdTimeout,
            callMinutesMax: configuration.callMinutesMax,
            callbackBaseURL: { address.baseURL },
            now: now,
            logger: logger
        )
        callDispatcher = CallDispatcher(
            calls: stores.calls,
            contacts: stores.contacts,
            provider: provider,
            settlement: callSettlement,
            callbackBaseURL: { address.baseURL },
            now: now,
            logger: logger
        )
        registration = RegistrationService(
            numbers: stores.numbers,
            sendingNumbers: sendingNumbers,
            provider: provider,
            credits: credits,
            settlement: settlement,
            linkBase: { address.baseURL },
            now: now
        )
        billing = BillingService(
            store: stores.billing,
            database: database,
            ledgerStore: stores.ledger,
            credits: credits,
            organizations: stores.organizations,
            gateway: gateway,
            creditPrices: configuration.creditPrices,
            seller: configuration.seller,
            catalogue: stores.catalogue,
            facts: facts,
            now: now,
            logger: logger
        )
        autoRenew = AutoRenewService(
            store: stores.autoRenew,
            billingStore: stores.billing,
            billing: billing,
            credits: credits,
            ledgerStore: stores.ledger,
            organizations: stores.organizations,
            newMailStatus: newMail,
            now: now,
            logger: logger
        )
        plans = PlanService(
            store: stores.plans,
            database: database,
            ledgerStore: stores.ledger,
            ledger: ledger,
            credits: credits,
            organizations: stores.organizations,
            numbers: stores.numbers,
            numberCharges: configuration.numberCharges,
            now: now,
            logger: logger
        )
        subscriptions = SubscriptionService(
            plans: stores.plans,
            catalogue: stores.catalogue,
            billing: billing,
            billingStore: stores.billing,
            numbers: stores.numbers,
            organizations: stores.organizations,
            database: database,
            creditPrices: configuration.creditPrices,
            now: now,
            logger: logger
        )
        shortCodes = ShortCodeService(
            store: stores.shortCodes,
            subscriptions: subscriptions,
            billingStore: stores.billing,
            organizations: stores.organizations,
            database: database,
            shortCode: shortCode,
            monthlyCents: configuration.shortCodeMonthlyCents,
            now: now
        )
        administration = AdministrationService(
            organizations: stores.organizations,
            credits: credits,
            principals: principals,
            sessions: stores.sessions,
            numbers: sendingNumbers,
            now: now
        )
        sessions = SessionService(
            sessions: stores.sessions,
            organizations: stores.organizations,
            principals: principals,
            signInGuard: SignInGuard(store: stores.signIns),
            now: now
        )
        passwordResets = PasswordResetService(
            store: stores.passwordResets,
            organizations: stores.organizations,
            principals: principals,
            newMailStatus: newMail,
            now: now
        )
        signUps = SignUpService(
            administration: administration,
            sessions: sessions,
            organizations: stores.organizations,
            tallies: stores.signIns,
            countries: Country.allCases.filter { configuration.creditPrices.terms[$0] != nil },
            now: now
        )
        auditLog = AuditLog(database: database)

        // Reactions to facts, in this order: auto-renew first (it may buy), subscriptions (a
        // past-due renewal retried), then the sender's alert.
        facts.subscribe(autoRenew.handle)
        facts.subscribe(subscriptions.handle)
        facts.subscribe(alerts.handle)
        facts.subscribe(creditWatch.handle)
    }
}

/// The address callbacks use: the configured public URL, else where the server listens.
final class BoundAddress: Sendable {
    private let configuration: AppConfiguration
    private let bound = Mutex<String?>(nil)

    init(configuration: AppConfiguration) { self.configuration = configuration }

    var baseURL: String { configuration.publicURL ?? bound.withLock { $0 } ?? configuration.baseURL }

    func bound(host: String, port: Int) {
        let name =
            host == "0.0.0.0" ? "127.0.0.1" : (host == "::" ? "[::1]" : (host.contains(":") ? "[\(host)]" : host))
        bound.withLock { $0 = "http://\(name):\(port)" }
    }
}
