import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the router with every route, each route collection constructed with the services it
/// calls; returns it with the table of documented routes.
public func buildRouter(services: AppServices) -> (router: Router<AppRequestContext>, routes: RouteTable) {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    let forwarded = ForwardedHeaders(trustedProxies: Set(services.configuration.trustedProxies))
    router.add(
        middleware: SecurityHeadersMiddleware(
            https: services.configuration.publicURL?.hasPrefix("https:") ?? false,
            forwarded: forwarded
        )
    )
    router.add(middleware: ErrorMiddleware())
    // Inside the error middleware, so a refusal is counted with the status the client gets.
    router.add(middleware: RequestMetricsMiddleware())
    router.add(middleware: QueryRulesMiddleware())
    router.add(middleware: RequestLogMiddleware())
    let table = RouteTable(router: router)
    MetaRoutes(database: services.database, metricsToken: services.configuration.metricsToken).add(to: table)
    let api = router.group("").add(middleware: AuthMiddleware(resolver: services.principals))
    OrganizationRoutes(administration: services.administration).add(to: table, group: api)
    ContactRoutes(contacts: services.contacts, imports: services.contactImports).add(to: table, group: api)
    CreditRoutes(
        credits: services.credits,
        auditLog: services.auditLog,
        prices: services.configuration.prices,
        now: services.now
    )
    .add(to: table, group: api)
    BillingRoutes(
        billing: services.billing,
        autoRenew: services.autoRenew,
        plans: services.plans,
        alerts: services.alerts,
        notices: services.notices,
        now: services.now
    )
    .add(to: table, group: api)
    SubscriptionRoutes(subscriptions: services.subscriptions, shortCodes: services.shortCodes).add(
        to: table,
        group: api
    )
    let mediaRoutes = MediaRoutes(media: services.media)
    mediaRoutes.add(to: table, group: api)
    mediaRoutes.addSigned(to: table)
    MessageRoutes(
        messaging: services.messaging,
        conversations: services.conversations,
        registration: services.registration
    )
    .add(to: table, group: api)
    let webhooks = WebhookRoutes(
        provider: services.provider,
        settlement: services.settlement,
        inbound: services.inbound,
        baseURL: { services.baseURL },
        forwarded: forwarded
    )
    webhooks.add(to: table)
    VoiceRoutes(voice: services.voice).add(to: table, group: api)
    WebhookEndpointRoutes(webhooks: services.webhooks).add(to: table, group: api)
    VoiceWebhookRoutes(webhooks: webhooks, flow: services.callFlow, settlement: services.callSettlement).add(to: table)
    WebRoutes(
        pages: WebPages(notices: services.notices, sessions: services.sessions),
        sessions: services.sessions,
        credits: services.credits,
        numbers: services.sendingNumbers,
        registration: services.registration,
        contacts: services.contacts,
        imports: services.contactImports,
        uploads: services.contactUploads,
        messaging: services.messaging,
        conversations: services.conversations,
        voice: services.voice,
        webhooks: services.webhooks,
        billing: services.billing,
        subscriptions: services.subscriptions,
        shortCodes: services.shortCodes,
        media: services.media,
        autoRenew: services.autoRenew,
        administration: services.administration,
        auditLog: services.auditLog,
        passwordResets: services.passwordResets,
        optIns: services.optIns,
        signUps: services.configuration.allowSignup ? services.signUps : nil,
        linkBase: { services.baseURL },
        prices: services.configuration.prices,
        forwarded: forwarded,
        now: services.now
    ).add(to: router)
    table.addMethodNotAllowed()
    return (router, table)
}

/// The one assembly point the CLI and the tests both call: opens and migrates the database,
/// builds the services, routes and background jobs.
public func buildApplication(_ configuration: AppConfiguration, now: @escaping @Sendable () -> Date = { Date() })
    async throws
    -> some ApplicationProtocol
{
    var logger = Logger(label: "textcredits")
    logger.logLevel = configuration.logLevel
    _ = MetricsSetup.registry
    let database = try await DatabaseFactory.open(configuration.database, logger: logger)
    try await Migrator.migrate(database)
    let services = try await AppServices.build(
        configuration: configuration,
        database: database,
        now: now,
        logger: logger
    )
    return buildApplication(services: services)
}

/// Builds the application over assembled services (tests build services on a test database).
public func buildApplication(services: AppServices) -> some ApplicationProtocol {
    let (router, _) = buildRouter(services: services)
    var application = Application(
        router: router,
        configuration: .init(
            address: .hostname(services.configuration.host, port: services.configuration.port),
            serverName: "TextCredits"
        ),
        onServerRunning: { channel in
            if let address = channel.localAddress, let port = address.port {
                services.serverBound(host: address.ipAddress ?? services.configuration.host, port: port)
            }
        },
        logger: services.logger
    )
    // Services shut down in reverse order: the database closes last, after the jobs stop.
    application.addServices(DatabaseCloser(database: services.database))
    if services.configuration.runsWorkers {
        for job in services.backgroundJobs() { application.addServices(JobService(job: job, logger: services.logger)) }
        if let simulator = services.simulator { application.addServices(SimulatorService(simulator: simulator)) }
    }
    return application
}
