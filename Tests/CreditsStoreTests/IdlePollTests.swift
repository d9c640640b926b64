import CreditsCore
import Foundation
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
}
