import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Logging
import Synchronization

/// The assembled parts of a running server: the store, the ledger, the SMS provider and the
/// services every route, page and worker uses. One instance per process.
public final class AppServices: Sendable {
    public let configuration: AppConfiguration
    public let database: any Database
    public let ledger: Ledger
    public let ledgerStore: SQLLedgerStore
    public let organizations: OrganizationStore
    public let contacts: ContactStore
    public let messages: MessageStore
    public let conversations: ConversationStore
    public let numbers: NumberStore
    public let simulatorStore: SimulatorStore
    public let principals: PrincipalResolver
    /// The provider texts go through.
    public let provider: any SMSProvider
    /// The Simulator, when it is the provider (its callbacks run as a service).
    public let simulator: SimulatorProvider?
    public let rateLimiter: RateLimiter
    /// Wrong portal passwords per email, to slow guessing.
    public let signInThrottle = SignInThrottle()
    public let billingStore: BillingStore
    public let autoRenewStore: AutoRenewStore
    /// The mail outbox (mail is kept there and listed at `GET /v1/mail`).
    public let mailStore: MailStore
    public let planStore: PlanStore
    /// The gateway purchases are charged through.
    public let gateway: any PaymentGateway
    /// Delivery reports arriving together are applied, and the holds of the messages they
    /// finish settled, in one transaction.
    let reports: GroupCommit<Int, MessageStore.Report, MessageStore.StatusChange?>
    /// The clock every rule is given; tests inject their own.
    public let now: @Sendable () -> Date
    public let logger: Logger
    private let boundURL = Mutex<String?>(nil)

    /// Assembles the services; reads or creates the Simulator's signing secret.
    public static func make(configuration: AppConfiguration, database: any Database, now: @escaping @Sendable () -> Date = { Date() },
                            logger: Logger) async throws -> AppServices {
        let numbers = NumberStore(database: database)
        let provider: any SMSProvider
        var simulator: SimulatorProvider?
        switch configuration.provider {
        case .simulator:
            let token = try await numbers.secret("simulator_auth_token", createWith: { APIKeys.randomText(bytes: 20) }, at: now())
            let made = SimulatorProvider(authToken: token, log: SimulatorDatabaseLog(store: SimulatorStore(database: database), now: now),
                                         callbackDelay: configuration.simulatorDelay,
                                         registrationDelay: configuration.simulatorRegistrationDelay, logger: logger)
            simulator = made
            provider = made
        case .twilio(let twilio):
            provider = TwilioProvider(configuration: twilio, logger: logger)
        }
        let billingStore = BillingStore(database: database, ledgerStore: SQLLedgerStore(database: database))
        let gateway: any PaymentGateway = switch configuration.gateway {
        case .sandbox: SandboxGateway(log: SandboxDatabaseLog(store: billingStore, now: now), now: now)
        case .stripe(let stripe): StripeGateway(configuration: stripe)
        }
        return AppServices(configuration: configuration, database: database, provider: provider, simulator: simulator, gateway: gateway,
                           now: now, logger: logger)
    }

    init(configuration: AppConfiguration, database: any Database, provider: any SMSProvider, simulator: SimulatorProvider?,
         gateway: any PaymentGateway, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.ledgerStore = SQLLedgerStore(database: database)
        self.billingStore = BillingStore(database: database, ledgerStore: ledgerStore)
        self.autoRenewStore = AutoRenewStore(database: database)
        self.mailStore = MailStore(database: database)
        self.planStore = PlanStore(database: database)
        self.gateway = gateway
        self.ledger = Ledger(store: ledgerStore)
        self.organizations = OrganizationStore(database: database)
        self.contacts = ContactStore(database: database)
        let ledgerStore = self.ledgerStore
        let prices = configuration.prices
        self.messages = MessageStore(database: database) { sql, finished in
            try await SettlementService.settle(finished, prices: prices, at: now(), logger: logger) { try await ledgerStore.apply($0, within: sql) }
        }
        self.conversations = ConversationStore(database: database)
        self.numbers = NumberStore(database: database)
        self.simulatorStore = SimulatorStore(database: database)
        self.principals = PrincipalResolver(organizations: organizations, now: now)
        self.provider = provider
        self.simulator = simulator
        self.rateLimiter = RateLimiter(perSecond: configuration.ratePerNumber)
        let messages = self.messages
        self.reports = GroupCommit(batchSizeMax: 512) { _, reports in try await messages.applyReports(reports, at: now()) }
        self.now = now
        self.logger = logger
    }

    /// The URL providers call back: the configured public URL, or the address the server
    /// actually listens on.
    public var baseURL: String { configuration.publicURL ?? boundURL.withLock { $0 } ?? configuration.baseURL }

    /// Records the address the server bound (port 0 picks a free one).
    public func serverBound(host: String, port: Int) {
        let name = host == "0.0.0.0" ? "127.0.0.1" : (host == "::" ? "[::1]" : (host.contains(":") ? "[\(host)]" : host))
        boundURL.withLock { $0 = "http://\(name):\(port)" }
    }

    /// Organisation, staff and key administration.
    public var administration: AdministrationService { AdministrationService(services: self) }
    /// Credits: balances, transfers, allotments, statements, adjustments.
    public var credits: CreditService { CreditService(services: self) }
    /// Contacts, groups and consent.
    public var contactService: ContactService { ContactService(services: self) }
    /// Sending: campaigns, replies, signup messages.
    public var messaging: MessagingService { MessagingService(services: self) }
    /// Delivery reports and settlement of holds.
    public var settlement: SettlementService { SettlementService(services: self) }
    /// Inbound texts: keywords and the Messenger Center.
    public var inbound: InboundService { InboundService(services: self) }
    /// Brand and number registration.
    public var registration: RegistrationService { RegistrationService(services: self) }
    /// Payment method, purchases and invoices.
    public var billing: BillingService { BillingService(services: self) }
    /// Auto-renew of the pool's credits.
    public var autoRenew: AutoRenewService { AutoRenewService(services: self) }
    /// Banners for staff: low balance, out of credits, failed auto-renew.
    public var notices: NoticeService { NoticeService(services: self) }
    /// Low-balance mail and the outbox.
    public var alerts: AlertService { AlertService(services: self) }
    /// Plans, plan-credit grants, allotments and expiry.
    public var plans: PlanService { PlanService(services: self) }
}

/// The Sandbox gateway's record of charges, in the server's database.
struct SandboxDatabaseLog: SandboxChargeLog {
    let store: BillingStore
    let now: @Sendable () -> Date

    func record(_ outcome: SandboxChargeOutcome) async throws -> SandboxChargeOutcome {
        let stored = try await store.recordSandboxCharge(BillingStore.SandboxCharge(
            idempotencyKey: outcome.idempotencyKey, amountCents: outcome.amountCents, paymentMethod: outcome.paymentMethodToken,
            chargeID: outcome.chargeID, errorKind: outcome.error?.kind.rawValue, errorCode: outcome.error?.code, errorMessage: outcome.error?.message), at: now())
        let error = stored.errorKind.map { kind in
            PaymentError(kind: PaymentError.Kind(rawValue: kind) ?? .declined, code: stored.errorCode ?? kind, message: stored.errorMessage ?? "")
        }
        return SandboxChargeOutcome(idempotencyKey: stored.idempotencyKey, amountCents: stored.amountCents, paymentMethodToken: stored.paymentMethod,
                                    chargeID: stored.chargeID, error: error)
    }
}

/// The Simulator's log in the server's database; concurrent calls are grouped into batches.
struct SimulatorDatabaseLog: SimulatorLog {
    let store: SimulatorStore
    let now: @Sendable () -> Date
    let accepts: GroupCommit<Int, SimulatedMessage, SimulatedMessage>
    let deliveries: GroupCommit<Int, String, Bool>

    init(store: SimulatorStore, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.now = now
        self.accepts = GroupCommit(batchSizeMax: 512) { _, rows in try await store.accept(rows, at: now()) }
        self.deliveries = GroupCommit(batchSizeMax: 512) { _, ids in
            try await store.callbacksDelivered(providerIDs: ids, at: now())
            return ids.map { _ in true }
        }
    }

    func accept(_ message: SimulatedMessage) async throws -> SimulatedMessage {
        try await accepts.submit(message, key: 0)
    }

    func callbackDelivered(providerID: String) async throws { _ = try await deliveries.submit(providerID, key: 0) }

    func pendingCallbacks(limit: Int) async throws -> [SimulatedMessage] { try await store.pending(limit: limit) }
}

/// Sends from one number at most `perSecond` texts per second (token bucket per number).
public actor RateLimiter {
    let perSecond: Int
    private var next: [String: ContinuousClock.Instant] = [:]

    public init(perSecond: Int) { self.perSecond = max(1, perSecond) }

    /// Waits until `number` may send again.
    public func acquire(_ number: String) async {
        let interval = Duration.nanoseconds(1_000_000_000 / Int64(perSecond))
        let now = ContinuousClock.now
        let slot = max(next[number] ?? now, now)
        next[number] = slot + interval
        if next.count > 10_000 { next = next.filter { $0.value > now } }
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
