import CreditsCore
import Foundation
import SQLKit
import TestSupport
import Testing

@testable import CreditsStore

/// Every settlement batch asks whether the campaigns it touched still have a message in flight,
/// and every dispatch round whether they still have one to send. Both read the `(campaign_id,
/// status)` index as one range of statuses, so the answer costs the same at the first report of
/// a campaign of 100,000 and at its last, whatever PostgreSQL's statistics say about the table.
@Suite struct CampaignCompletionReadTests {
    static let stores = TestDatabase.available

    /// The range form of `status IN (…)` selects exactly the statuses asked for, in each store's
    /// own text order (PostgreSQL compares with the database's collation).
    @Test(arguments: stores)
    func aRangeOfStatusesIsExactlyTheStatusesAskedFor(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            let all = MessageStatus.allCases
            let values = all.map { "('\($0.rawValue)')" }.joined(separator: ", ")
            let sets: [[MessageStatus]] =
                [all.filter { !$0.isFinal }, [.queued, .sending], [.sent], all.filter(\.isFinal), all, []]
                + all.map { status in all.filter { $0 != status } }
            for wanted in sets {
                let predicate = MessageStore.statuses(wanted, in: "t.s")
                let found = try await database.read { sql in
                    try await sql.raw(
                        "WITH t (s) AS (VALUES \(unsafeRaw: values)) SELECT s FROM t WHERE \(unsafeRaw: predicate)"
                    )
                    .all().map { try $0.decode(column: "s", as: String.self) }
                }
                #expect(Set(found) == Set(wanted.map(\.rawValue)), "\(predicate)")
            }
        }
    }

    /// A campaign whose 3,000 texts were all queued when the statistics were taken, and all
    /// delivered since: the completion check reads only the unfinished entries of the index.
    /// Before, PostgreSQL read the campaign's entries in order and filtered out every delivered
    /// one (`Rows Removed by Filter: 3000`), on every settlement batch.
    @Test(arguments: stores)
    func theCompletionCheckReadsOnlyTheUnfinishedMessages(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            try await database.transaction { sql in
                try await QueryPlans.queueTexts(3000, name: "c", campaign: "cmp_c", in: sql)
            }
            try await QueryPlans.analyze(["messages"], on: database)  // the statistics: every text queued
            try await database.transaction { sql in
                try await sql.raw("UPDATE messages SET status = 'delivered' WHERE campaign_id = 'cmp_c'").run()
            }
            let check: SQLQueryString =
                "SELECT c.id FROM campaigns c WHERE c.id = 'cmp_c' AND \(MessageStore.firstUnfinished(ofCampaign: "c.id")) IS NULL"
            let plan = try await QueryPlans.plan(check, on: database, executed: true)
            #expect(plan.contains("messages_campaign"), "\(plan)")
            if database.dialect == .postgres {
                #expect(!plan.contains("Rows Removed by Filter"), "\(plan)")
            } else {
                #expect(plan.contains("status>? AND status<?"), "\(plan)")
            }
            let complete = try await database.read { sql in try await sql.raw(check).all().count }
            #expect(complete == 1, "no message in flight: the campaign is complete")
            try await database.transaction { sql in
                try await sql.raw("UPDATE messages SET status = 'sent' WHERE id = 'msg_c1500'").run()
            }
            let stillSending = try await database.read { sql in try await sql.raw(check).all().count }
            #expect(stillSending == 0, "one text still waiting for its report: not complete")
        }
    }
}
