import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import TestSupport
import Testing

/// A process killed in the middle of a ledger batch leaves nothing half-applied: every batch is
/// either wholly in the database or not at all, and the ledger still verifies.
@Suite struct LedgerCrashTests {
    struct Counts: Decodable {
        let holds: Int
        let reserves: Int
        let portions: Int
    }

    @Test(arguments: TestDatabase.available)
    func aProcessKilledMidBatchLeavesNothingHalfApplied(_ store: TestDatabase) async throws {
        // The deposit batch writes 10 statements and each reserve batch 9, so these limits stop the
        // process inside the first, second and fourth reserve batch.
        for limit in [13, 22, 40] {
            try await store.with { database, url in
                let output = try await CommandLineTool.run(
                    [
                        "bench", "ledger", "--database", url.commandLineValue, "--holds", "3000", "--concurrency", "64",
                        "--batch", "200",
                    ],
                    environment: ["TEXTCREDITS_FAULT_KILL_AFTER_STATEMENTS": "\(limit)"]
                )
                #expect(output.killedBySignal, "the process must die inside a batch: \(output.standardError)")
                #expect(output.status == SIGKILL)

                #expect(try await LedgerVerifier(database: database).verify() == [])
                let counts = try #require(
                    try await database.read { sql in
                        try await sql.raw(
                            """
                            SELECT (SELECT COUNT(*) FROM ledger_holds) AS holds,
                                   (SELECT COUNT(*) FROM ledger_transfers WHERE operation = 'reserve') AS reserves,
                                   (SELECT COUNT(*) FROM ledger_hold_portions) AS portions
                            """
                        ).first(decoding: Counts.self)
                    }
                )
                #expect(counts.holds == counts.reserves)
                #expect(counts.portions == counts.holds)
                if limit > 20 { #expect(counts.holds > 0, "batches before the kill are durable") }
                #expect(counts.holds < 3000, "the batch in flight was not applied")
            }
        }
    }
}
