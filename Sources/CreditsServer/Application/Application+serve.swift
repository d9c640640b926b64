import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a built application (`buildApplication`) until SIGTERM or SIGINT, then shuts it down
/// within a bound: the listener stops taking connections and in-flight requests finish, each
/// background job ends the pass in hand, and the database closes last (`buildApplication`
/// orders the services so). Whatever still runs after `configuration.shutdownTimeout` is
/// cancelled, and the process ends at most `cancellationGrace` later.
public func serve(_ application: some Service, configuration: AppConfiguration) async throws {
    var logger = Logger(label: "textcredits")
    logger.logLevel = configuration.logLevel
    let bound = configuration.shutdownTimeout
    let notice = ShutdownNotice(logger: logger, bound: bound)
    var group = ServiceGroupConfiguration(
        services: [.init(service: application), .init(service: notice)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
    group.maximumGracefulShutdownDuration = bound
    group.maximumCancellationDuration = cancellationGrace
    try await ServiceGroup(configuration: group).run()
    let took = notice.began.withLock { $0 }.map { ContinuousClock.now - $0 }
    if let took, took >= bound {
        logger.warning(
            "shutdown complete after the bound: work still running was cancelled",
            metadata: ["bound_seconds": "\(bound.components.seconds)"]
        )
    } else {
        logger.notice("shutdown complete")
    }
}

/// How long cancelled work gets to unwind once the shutdown bound has passed.
let cancellationGrace = Duration.seconds(5)

/// Says in the log when a shutdown begins and how long it may take, and keeps when it began.
/// Services stop in reverse order, so this one hears of the shutdown before the application does.
final class ShutdownNotice: Service {
    let logger: Logger
    let bound: Duration
    /// When graceful shutdown began (nil until it does).
    let began = Mutex<ContinuousClock.Instant?>(nil)

    init(logger: Logger, bound: Duration) {
        self.logger = logger
        self.bound = bound
    }

    func run() async throws {
        // Cancelled instead (the server failed to start): no shutdown to announce.
        do { try await gracefulShutdown() } catch { return }
        began.withLock { $0 = ContinuousClock.now }
        logger.notice(
            "shutdown: finishing in-flight requests and background passes, then closing the database",
            metadata: ["bound_seconds": "\(bound.components.seconds)"]
        )
    }
}
