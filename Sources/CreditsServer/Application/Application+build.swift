import CreditsCore
import CreditsStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the router with every route; returns it with the table of documented routes.
public func buildRouter(services: AppServices) -> (router: Router<AppRequestContext>, routes: RouteTable) {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: MetricsMiddleware())
    let table = RouteTable(router: router)
    MetaRoutes.add(to: table, services: services)
    let api = router.group("").add(middleware: AuthMiddleware(resolver: services.principals))
    OrganizationRoutes.add(to: table, group: api, services: services)
    ContactRoutes.add(to: table, group: api, services: services)
    CreditRoutes.add(to: table, group: api, services: services)
    BillingRoutes.add(to: table, group: api, services: services)
    MessageRoutes.add(to: table, group: api, services: services)
    WebhookRoutes.add(to: table, services: services)
    WebRoutes.add(to: router, services: services)
    table.addMethodNotAllowed()
    return (router, table)
}

/// The one assembly point the CLI and the tests both call: opens and migrates the database,
/// builds the services, routes and workers.
public func buildApplication(_ configuration: AppConfiguration, now: @escaping @Sendable () -> Date = { Date() }) async throws
    -> some ApplicationProtocol {
    var logger = Logger(label: "textcredits")
    logger.logLevel = configuration.logLevel
    _ = MetricsSetup.registry
    let database = try await DatabaseFactory.open(configuration.database, logger: logger)
    try await Migrator.migrate(database)
    let services = try await AppServices.make(configuration: configuration, database: database, now: now, logger: logger)
    return buildApplication(services: services)
}

/// Builds the application over assembled services (tests build services on a test database).
public func buildApplication(services: AppServices) -> some ApplicationProtocol {
    let (router, _) = buildRouter(services: services)
    var application = Application(
        router: router,
        configuration: .init(address: .hostname(services.configuration.host, port: services.configuration.port), serverName: "TextCredits"),
        onServerRunning: { channel in
            if let address = channel.localAddress, let port = address.port {
                services.serverBound(host: address.ipAddress ?? services.configuration.host, port: port)
            }
        },
        logger: services.logger)
    // Services shut down in reverse order: the database closes last, after the workers stop.
    application.addServices(DatabaseCloser(database: services.database))
    if services.configuration.runsWorkers {
        application.addServices(DispatchService(services: services), MaintenanceService(services: services))
        if let simulator = services.simulator { application.addServices(SimulatorService(simulator: simulator)) }
    }
    return application
}

/// Closes the database when the server shuts down.
struct DatabaseCloser: Service {
    let database: any Database

    func run() async throws {
        try? await gracefulShutdown()
        await database.close()
    }
}
