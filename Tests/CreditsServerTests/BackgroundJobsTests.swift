import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// Each background job runs on its own: one that fails (a gateway outage, a locked table) is
/// logged and retried, and every other job keeps doing its work.
@Suite struct BackgroundJobsTests {
    static let stores = TestDatabase.available

    /// Counts a job's passes.
    final class Counter: Sendable {
        let count = Mutex(0)
    }

    /// The reconciliation job, failing as if the gateway threw in the middle of it.
    static func failingReconciliation(_ jobs: [BackgroundJob], attempts: Counter = Counter()) throws -> [BackgroundJob]
    {
        var jobs = jobs
        let index = try #require(jobs.firstIndex { $0.name == "purchase reconciliation" })
        jobs[index].pass = {
            attempts.count.withLock { $0 += 1 }
            throw PaymentError(kind: .temporary, code: "gateway_down", message: "The payment gateway is down.")
        }
        jobs[index].interval = .milliseconds(20)
        return jobs
    }

    /// A plan whose first cycle has begun, and plan credits whose cycle has ended.
    static func dueWork(_ server: TestServer, _ org: TestServer.Org) async throws {
        _ = try await server.services.plans.setPlan(
            org.id,
            name: "Starter",
            credits: 100,
            cycle: .monthly,
            rolloverProtection: false,
            startsAt: server.clock.now,
            active: true,
            actor: .system
        )
    }

    @Test(arguments: stores)
    func aFailingJobDoesNotStopTheOtherJobsOnTheSamePass(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await BackgroundJobsTests.dueWork(server, org)
            let jobs = try BackgroundJobsTests.failingReconciliation(server.services.backgroundJobs())
            #expect(
                jobs.map(\.name).firstIndex(of: "purchase reconciliation")! < jobs.map(\.name).firstIndex(
                    of: "session expiry"
                )!
            )

            let outcomes = await jobs.runEachOnce()
            #expect(throws: PaymentError.self) { try outcomes["purchase reconciliation"]?.get() }
            #expect(try outcomes["plan cycles"]?.get() == 1, "the plan's first cycle is granted on the same pass")
            #expect(try outcomes["session expiry"]?.get() == 0, "the job after the failing one ran too")
            #expect(outcomes.count == jobs.count, "every job ran once")
            #expect(try await server.pool(org)["available"] as? Double == 100)

            // A month later the plan credits have expired: the next pass records it, reconciliation still failing.
            server.clock.advance(32 * 86_400)
            let later = await jobs.runEachOnce()
            #expect(throws: PaymentError.self) { try later["purchase reconciliation"]?.get() }
            #expect(try later["lot expiry"]?.get() == 1)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aRunningServerKeepsRetryingAFailingJobWhileTheOthersWork(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let attempts = Counter()
            let jobs = try BackgroundJobsTests.failingReconciliation(
                server.services.backgroundJobs(),
                attempts: attempts
            )
            var logger = Logger(label: "jobs-test")
            logger.logLevel = .critical
            let group = ServiceGroup(
                configuration: .init(services: jobs.map { JobService(job: $0, logger: logger) }, logger: logger)
            )
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await BackgroundJobsTests.dueWork(server, org)
                let granted = try await server.eventually {
                    let tries = attempts.count.withLock { $0 }
                    let available = try await server.pool(org)["available"] as? Double
                    return tries >= 3 && available == 100
                }
                #expect(granted, "the plan was granted while reconciliation kept failing and kept being retried")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    /// The backlog gauges count pending rows, which takes longer the larger the backlog: after a
    /// pass longer than a 50th of its interval the job rests 50 times as long as the pass took, so
    /// it keeps at most 2 % of a core, but never more than a minute, and after a pass that failed
    /// (which may have waited out a lock) only its interval; every other job rests its interval
    /// whatever a pass took.
    /// (The jobs' rests do not depend on the store: one is enough.)
    @Test func theBacklogGaugesRestInProportionToTheirLastPass() async throws {
        try await TestServer.with(.sqlite) { server in
            let jobs = server.services.backgroundJobs()
            let gauges = try #require(jobs.first { $0.name == "backlog gauges" })
            #expect(gauges.rest(after: .milliseconds(30)) == .seconds(5))
            #expect(gauges.rest(after: .milliseconds(213)) == .milliseconds(10_650))
            #expect(gauges.rest(after: .milliseconds(1_100)) == .seconds(55))
            #expect(gauges.rest(after: .seconds(2)) == .seconds(60))
            #expect(gauges.rest(after: .seconds(2), succeeded: false) == .seconds(5))
            for job in jobs where job.name != "backlog gauges" {
                #expect(job.rest(after: .seconds(2)) == job.interval, "\(job.name)")
            }
        }
    }
}
