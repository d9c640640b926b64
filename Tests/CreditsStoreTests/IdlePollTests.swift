import CreditsCore
import Foundation
import SQLKit
import TestSupport
import Testing

@testable import CreditsStore

/// The dispatchers and the webhook worker poll several times a second, the lease reclaims once a
/// second. A poll that finds nothing due asks a read connection and takes no write transaction:
/// on SQLite every write transaction holds the one write lock that sends and settlements wait for
/// (an idle server ran about 20 of them a second before), and on PostgreSQL each one was a round
/// of locks for nothing. With rows present but not due (a leased text, a leased call) the
/// messaging and voice suites check the same; that work that is due is still claimed (and expired
/// leases reclaimed) is held by the dispatch, voice and webhook suites.
@Suite struct IdlePollTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func pollsThatFindNothingDueTakeNoWriteTransaction(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let counting = CountingDatabase(database)
            let now = Date()
            let lease = now.addingTimeInterval(120)
            let messages = try await MessageStore(database: counting).claim(limit: 256, now: now, leaseUntil: lease)
            let calls = try await CallStore(database: counting).claim(limit: 64, now: now, leaseUntil: lease)
            let deliveries = try await WebhookStore(database: counting).claimDue(limit: 64, now: now, leaseUntil: lease)
            #expect(messages.isEmpty && calls.isEmpty && deliveries.isEmpty)
            let reclaimedTexts = try await MessageStore(database: counting).reclaimExpiredLeases(now: now)
            let reclaimedCalls = try await CallStore(database: counting).reclaimExpiredLeases(now: now)
            #expect(reclaimedTexts == 0 && reclaimedCalls == 0)
            #expect(counting.transactions == 0, "an idle poll took the write lock")
        }
    }

    /// The "anything due?" checks read the queues' indexes even while PostgreSQL's statistics
    /// still describe the table as it was before a send was claimed (ANALYZE refreshes them, a
    /// claim does not). Unordered, the check scanned the whole table on every poll until then:
    /// 75 ms a poll at a million texts.
    @Test(arguments: stores)
    func checksBeforeAClaimReadTheQueueIndexesWhateverTheStatisticsSay(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let count = 3000
            let rows = QueryPlans.numbers(count)
            try await database.transaction { sql in
                try await QueryPlans.queueTexts(count, name: "q", in: sql)
                try await sql.raw(
                    """
                    \(unsafeRaw: rows) INSERT INTO calls (id, organization_id, kind, from_number, to_number, status,
                        machine_detection, credits, time_limit, not_before, transcribe, created_at, updated_at)
                    SELECT 'call_q' || i, 'org_q', 'outgoing', '+14155550100', '+14155550181', 'queued', 'off', 0, 60, 1, 0,
                        1, 1 FROM n
                    """
                ).run()
            }
            let now = Date()
            // Leases that ran out already, so that statistics taken next describe every text as
            // one to reclaim: the reclaim's check must read `messages_leased` all the same.
            let lease = now.addingTimeInterval(-60)
            // The statistics: every text and call queued.
            try await QueryPlans.analyze(["messages", "calls"], on: database)
            let texts = try await MessageStore(database: database).claim(limit: count, now: now, leaseUntil: lease)
            let calls = try await CallStore(database: database).claim(limit: count, now: now, leaseUntil: lease)
            #expect(texts.count == count && calls.count == count)
            let textPlan = try await QueryPlans.plan(MessageStore.anyDue(at: now), on: database)
            #expect(textPlan.contains("messages_ready"), "\(textPlan)")
            let callPlan = try await QueryPlans.plan(CallStore.anyDue(at: now), on: database)
            #expect(callPlan.contains("calls_queue"), "\(callPlan)")
            // Now: every text leased, every lease run out.
            try await QueryPlans.analyze(["messages", "calls"], on: database)
            let leasePlan = try await QueryPlans.plan(MessageStore.anyExpired(at: now), on: database)
            #expect(leasePlan.contains("messages_leased"), "\(leasePlan)")
        }
    }
}
