import CreditsAdapters
import CreditsStore
import Foundation
import Logging
import ServiceLifecycle

/// One background job: a name for its logs, how long it rests between passes, and one pass that
/// does a bounded amount of work and says how much it did.
public struct BackgroundJob: Sendable {
    public var name: String
    /// The rest between passes (and after a failed pass).
    public var interval: Duration
    /// When a pass did work, run the next one at once instead of resting (the dispatcher drains
    /// a queue this way).
    public var drainsQueue: Bool
    /// When set, the rest after a pass that succeeded is at least this many times as long as the
    /// pass took, up to `restMax`, so a job whose pass grows with the data (a count over the
    /// backlog) keeps at most a share of 1 / (1 + n) of a core however large the data grows. A
    /// pass that failed (which may have waited out a lock) is followed by the interval.
    public var restPerPassTime: Int?
    /// The longest rest `restPerPassTime` gives: what the job reports is never older than this
    /// plus one pass.
    public static let restMax = Duration.seconds(60)
    /// One pass; returns how many items it handled. Each pass is bounded by its own limit.
    public var pass: @Sendable () async throws -> Int

    public init(
        _ name: String,
        every interval: Duration,
        drainsQueue: Bool = false,
        restPerPassTime: Int? = nil,
        pass: @escaping @Sendable () async throws -> Int
    ) {
        self.name = name
        self.interval = interval
        self.drainsQueue = drainsQueue
        self.restPerPassTime = restPerPassTime
        self.pass = pass
    }

    /// The rest after a pass that took `passTime`.
    public func rest(after passTime: Duration, succeeded: Bool = true) -> Duration {
        guard let restPerPassTime, succeeded else { return interval }
        return max(interval, min(passTime * restPerPassTime, Self.restMax))
    }
}

/// Runs one job until graceful shutdown. A pass that fails is logged with the job's name and
/// the job carries on after its rest: one fault (a gateway down, a locked table) never stops
/// another job or a later pass of this one. Graceful shutdown ends the rest between passes at
/// once but lets a pass in hand finish (a pass is bounded; `serve --shutdown-timeout` cancels
/// one that outlasts the bound).
public struct JobService: Service {
    let job: BackgroundJob
    let logger: Logger

    public init(job: BackgroundJob, logger: Logger) {
        self.job = job
        self.logger = logger
    }

    public func run() async throws {
        let job = job
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var handled = 0
            var succeeded = true
            let clock = ContinuousClock()
            let started = clock.now
            do {
                handled = try await job.pass()
            } catch {
                succeeded = false
                guard !Task.isCancelled else { return }
                logger.error(
                    "background job failed",
                    metadata: ["job": "\(job.name)", "error": "\(String(reflecting: error))"]
                )
            }
            if handled == 0 || !job.drainsQueue {
                let rest = job.rest(after: clock.now - started, succeeded: succeeded)
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: rest) }
            }
        }
    }
}

/// Delivers the Simulator's callbacks until shutdown.
struct SimulatorService: Service {
    let simulator: SimulatorProvider

    func run() async throws {
        await cancelWhenGracefulShutdown { await simulator.run() }
    }
}

/// Closes the database when the server shuts down (after every job has stopped).
struct DatabaseCloser: Service {
    let database: any Database

    func run() async throws {
        try? await gracefulShutdown()
        await database.close()
    }
}

extension AppServices {
    /// Every background job of a server, each with its own rest and a bound on each pass.
    public func backgroundJobs() -> [BackgroundJob] {
        let (dispatcher, settlement, registration, autoRenew, plans, mail, billing, sessions, database) =
            (dispatcher, settlement, registration, autoRenew, plans, mailDelivery, billing, self.sessions, database)
        let second = Duration.seconds(1)
        let (contactImports, subscriptions, shortCodes) = (contactImports, subscriptions, shortCodes)
        let (callDispatcher, callSettlement, callFlow) = (callDispatcher, callSettlement, callFlow)
        let callReportTimeout = configuration.callReportTimeout
        let webhookDispatcher = webhookDispatcher
        return [
            BackgroundJob("contact imports", every: configuration.pollInterval, drainsQueue: true) {
                try await contactImports.runNext()
            },
            BackgroundJob("dispatch", every: configuration.pollInterval, drainsQueue: true) {
                try await dispatcher.runOnce()
            },
            BackgroundJob("lease reclaim", every: second) { try await dispatcher.reclaimExpiredLeases() },
            BackgroundJob("call dispatch", every: configuration.pollInterval, drainsQueue: true) {
                try await callDispatcher.runOnce()
            },
            BackgroundJob("call lease reclaim", every: second) { try await callDispatcher.reclaimExpiredLeases() },
            BackgroundJob("call stragglers", every: .seconds(10)) { try await callFlow.settleStragglers(limit: 100) },
            BackgroundJob("call report timeouts", every: .seconds(10)) {
                try await callSettlement.timeOut(olderThan: callReportTimeout, limit: 500)
            },
            BackgroundJob("statistics refresh", every: second) { try await database.refreshStatistics().count },
            BackgroundJob("registration poll", every: second) {
                try await registration.poll()
                return 0
            },
            BackgroundJob("auto-renew", every: second) { try await autoRenew.runImmediate(limit: 100) },
            BackgroundJob("monthly auto-renew", every: second) { try await autoRenew.runMonthly(limit: 100) },
            BackgroundJob("plan cycles", every: second) {
                // In this order: operator-set plans and paid renewals add the cycle's credits
                // before the month's allotments and number charges take from the pool.
                try await plans.runCycles(limit: 1000) + subscriptions.runRenewals(limit: 100)
                    + plans.runMonthly(limit: 100)
            },
            BackgroundJob("monthly fees", every: .seconds(10)) {
                try await subscriptions.runMonthlyFees(limit: 100) + shortCodes.runFees(limit: 100)
            },
            BackgroundJob("lot expiry", every: second) { try await plans.runExpiry(limit: 100) },
            BackgroundJob("mail delivery", every: second) { try await mail.deliverQueued(limit: 50) },
            BackgroundJob("webhook delivery", every: configuration.pollInterval, drainsQueue: true) {
                try await webhookDispatcher.runOnce(limit: 256)
            },
            BackgroundJob("hold timeouts", every: .seconds(10)) { try await settlement.timeOutHolds(limit: 500) },
            BackgroundJob("purchase reconciliation", every: .seconds(10)) { try await billing.reconcile(limit: 100) },
            BackgroundJob("session expiry", every: .seconds(10)) { try await sessions.deleteExpired() },
            BackgroundJob("sign-in tallies", every: .seconds(60)) { try await sessions.forgetStaleSignIns() },
            BackgroundJob("interrupted imports", every: .seconds(60)) { try await contactImports.failInterrupted() },
            BacklogGauges.job(store: BacklogStore(database: database), every: .seconds(5), now: now),
        ]
    }
}

extension Array where Element == BackgroundJob {
    /// Runs one pass of each job, in order, each on its own: a job that fails does not stop the
    /// ones after it. Returns each job's outcome by name.
    public func runEachOnce() async -> [String: Result<Int, any Error>] {
        var outcomes: [String: Result<Int, any Error>] = [:]
        for job in self {
            do {
                outcomes[job.name] = .success(try await job.pass())
            } catch {
                outcomes[job.name] = .failure(error)
            }
        }
        return outcomes
    }
}
