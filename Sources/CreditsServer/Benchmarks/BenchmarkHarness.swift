import Logging
import ServiceLifecycle

/// What the end-to-end benchmarks share: the measured code runs while servers run beside it.
enum BenchmarkHarness {
    /// Runs `body` while `services` (the application, a local endpoint) run in one service group,
    /// then shuts them down gracefully, whether `body` finished or threw.
    static func whileRunning<T: Sendable>(
        _ services: [any Service],
        logger: Logger,
        _ body: () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let serviceGroup = ServiceGroup(configuration: .init(services: services, logger: logger))
            group.addTask { try await serviceGroup.run() }
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            await serviceGroup.triggerGracefulShutdown()
            for try await _ in group {}
            return try result.get()
        }
    }
}
