import CreditsStore
import Foundation
import TestSupport
import Testing

/// `textcredits backup` against a server in the middle of a campaign, and `textcredits restore`
/// of what it wrote, as an operator runs them.
@Suite(.serialized) struct BackupDuringSendTests {
    static let recipients = 4000

    @Test func aBackupTakenDuringARunningSendRestoresToADatabaseThatVerifies() async throws {
        try await TestDatabase.sqlite.with { database, url in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let backupPath = folder.appendingPathComponent("textcredits-backup.sqlite").path
            let restoredPath = folder.appendingPathComponent("restored.sqlite").path

            // 300 texts a second: the send takes over ten seconds, so the backup lands inside it.
            let port = HTTP.freePort()
            let server = try RunningTool([
                "serve", "--database", url.commandLineValue, "--port", "\(port)", "--simulator-delay", "0.2",
                "--rate-per-number", "300", "--log-level", "error",
            ])
            let base = "http://127.0.0.1:\(port)"
            #expect(await HTTP.waitUntilUp("\(base)/health"))
            let key = try await MessagingProcessTests.prepare(url, server: base, contacts: Self.recipients)
            let sent = try await HTTP.send(
                "POST",
                "\(base)/v1/messages",
                key: key,
                json: #"{"groups": ["families"], "body": "Storm closure: no classes today."}"#
            )
            #expect(sent.status == 201, "\(sent.body.prefix(300))")
            var before = try await MessagingProcessTests.totals(database)
            let started = Date().addingTimeInterval(60)
            while before.final < 500, Date() < started {
                try await Task.sleep(for: .milliseconds(20))
                before = try await MessagingProcessTests.totals(database)
            }

            let backup = try await CommandLineTool.run([
                "backup", "--database", url.commandLineValue, "--to", backupPath,
            ])
            let after = try await MessagingProcessTests.totals(database)
            #expect(backup.status == 0, "\(backup.standardError)")
            #expect(backup.standardOutput.contains("schema at migration \(Migrator.latestVersion), integrity ok"))
            #expect(backup.standardOutput.contains("to \(backupPath): "), "\(backup.standardOutput)")

            // The server went on to the end while and after the copy was taken.
            var end = after
            let finish = Date().addingTimeInterval(180)
            while !(end.final == Self.recipients && end.pending == 0), Date() < finish {
                try await Task.sleep(for: .milliseconds(200))
                end = try await MessagingProcessTests.totals(database)
            }
            _ = await server.stop()
            #expect(end.final == Self.recipients && end.pending == 0, "the send finished: \(end)")

            let restore = try await CommandLineTool.run([
                "restore", "--from", backupPath, "--database", "sqlite:\(restoredPath)",
            ])
            #expect(restore.status == 0, "\(restore.standardOutput) \(restore.standardError)")
            #expect(restore.standardOutput.contains("integrity ok"))
            #expect(restore.standardOutput.contains("ledger verified: all invariants hold"))

            // The copy is the send caught in the middle, and it is sound.
            let restored = try await DatabaseFactory.open(.sqlite(path: restoredPath), logger: TestDatabase.quietLogger)
            let copied = try await MessagingProcessTests.totals(restored)
            let violations = try await LedgerVerifier(database: restored).verify()
            await restored.close()
            #expect(copied.messages == Self.recipients)
            #expect(copied.final >= before.final && copied.final <= after.final, "copy: \(copied), \(before)…\(after)")
            #expect(copied.final < Self.recipients, "the backup was taken while the send was running")
            #expect(copied.pending > 0, "holds of texts still out are in the copy, pending")
            #expect(violations == [])
            let checked = try await SQLiteBackup.check(restoredPath, logger: TestDatabase.quietLogger)
            #expect(checked.migrationVersion == Migrator.latestVersion)
        }
    }
}
