import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import TestSupport
import Testing

/// `textcredits ledger verify` as an operator uses it.
@Suite struct LedgerCommandTests {
    @Test(arguments: TestDatabase.available)
    func verifyPassesAfterTheBenchmarkAndNamesAHandTamperedRow(_ store: TestDatabase) async throws {
        try await store.with { database, url in
            let bench = try await CommandLineTool.run([
                "bench", "ledger", "--database", url.commandLineValue, "--holds", "500", "--concurrency", "50",
            ])
            #expect(bench.status == 0, "\(bench.standardError)")
            #expect(bench.standardOutput.contains("reserve:") && bench.standardOutput.contains("holds/s"))

            let clean = try await CommandLineTool.run(["ledger", "verify", "--database", url.commandLineValue])
            #expect(clean.status == 0, "\(clean.standardOutput)")
            #expect(clean.standardOutput.contains("all invariants hold"))

            try await database.transaction { sql in
                try await sql.raw("UPDATE ledger_accounts SET balance = balance + 3000 WHERE kind = 'pool'").run()
            }
            let tampered = try await CommandLineTool.run(["ledger", "verify", "--database", url.commandLineValue])
            #expect(tampered.status == 1)
            #expect(tampered.standardOutput.contains("VIOLATION balance_matches_entries"))
            #expect(tampered.standardOutput.contains("VIOLATION zero_sum"))
        }
    }

    @Test func migrateReportsTheSchemaVersion() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let first = try await CommandLineTool.run(["migrate", "--database", "sqlite:\(path)"])
        #expect(first.status == 0)
        #expect(first.standardOutput.contains("applied 1:"))
        let second = try await CommandLineTool.run(["migrate", "--database", "sqlite:\(path)"])
        #expect(!second.standardOutput.contains("applied"))
        #expect(second.standardOutput.contains("schema at version \(Migrator.latestVersion)"))
    }
}
