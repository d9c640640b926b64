import CreditsStore
import Foundation
import TestSupport
import Testing

/// The refusals of `textcredits backup` and `restore`: nothing is overwritten without `--force`,
/// nothing but a sound TextCredits database is restored, and no half-written file is left behind.
@Suite struct SQLiteBackupTests {
    static let logger = TestDatabase.quietLogger

    /// A fresh folder, removed after `body`.
    static func inFolder(_ body: (URL) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder)
    }

    static func contents(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    @Test func aBackupRefusesAnExistingFileUnlessForcedAndLeavesNothingHalfWritten() async throws {
        try await TestDatabase.sqlite.with { _, url in
            try await SQLiteBackupTests.inFolder { folder in
                let target = folder.appendingPathComponent("copy.sqlite").path
                try Data("keep me".utf8).write(to: URL(fileURLWithPath: target))
                await #expect(throws: BackupError.targetExists(path: target, restoring: false)) {
                    try await SQLiteBackup.backup(url, to: target, replacing: false, logger: SQLiteBackupTests.logger)
                }
                #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")
                guard case .sqlite(let path) = url else { return }
                let live = URL(fileURLWithPath: path)
                let roundabout = live.deletingLastPathComponent().path + "/./" + live.lastPathComponent
                await #expect(throws: BackupError.sameFile(path: roundabout)) {
                    try await SQLiteBackup.backup(
                        url,
                        to: roundabout,
                        replacing: true,
                        logger: SQLiteBackupTests.logger
                    )
                }
                let report = try await SQLiteBackup.backup(
                    url,
                    to: target,
                    replacing: true,
                    logger: SQLiteBackupTests.logger
                )
                #expect(report.migrationVersion == Migrator.latestVersion)
                #expect(report.bytes > 0)
                #expect(try SQLiteBackupTests.contents(folder) == ["copy.sqlite"])
            }
        }
    }

    @Test func postgreSQLIsPointedAtPgDump() async throws {
        let url = try DatabaseURL(parsing: "postgres://textcredits@127.0.0.1:5432/textcredits")
        let error = await #expect(throws: BackupError.postgresUsesPgDump) {
            try await SQLiteBackup.backup(
                url,
                to: "/tmp/never.sqlite",
                replacing: false,
                logger: SQLiteBackupTests.logger
            )
        }
        #expect(error?.description.contains("pg_dump -Fc") == true)
    }

    @Test func aRestoreRefusesAnythingButASoundTextCreditsDatabase() async throws {
        try await SQLiteBackupTests.inFolder { folder in
            let target = DatabaseURL.sqlite(path: folder.appendingPathComponent("textcredits.sqlite").path)
            let text = folder.appendingPathComponent("notes.sqlite").path
            try Data(repeating: 65, count: 8192).write(to: URL(fileURLWithPath: text))
            await #expect(throws: BackupError.notTextCredits(path: text)) {
                try await SQLiteBackup.restore(
                    from: text,
                    to: target,
                    replacing: false,
                    logger: SQLiteBackupTests.logger
                )
            }
            try await TestDatabase.sqlite.with { _, url in
                let backup = folder.appendingPathComponent("backup.sqlite").path
                _ = try await SQLiteBackup.backup(url, to: backup, replacing: false, logger: SQLiteBackupTests.logger)
                // Overwrite the middle of the copy: its pages no longer add up.
                let handle = try FileHandle(forUpdating: URL(fileURLWithPath: backup))
                try handle.seek(toOffset: 40_960)
                handle.write(Data(repeating: 0xA5, count: 16_384))
                try handle.close()
                await #expect {
                    try await SQLiteBackup.restore(
                        from: backup,
                        to: target,
                        replacing: false,
                        logger: SQLiteBackupTests.logger
                    )
                } throws: { error in
                    if case .damaged(let named, _) = error as? BackupError { return named == backup }
                    return false
                }
            }
            #expect(try SQLiteBackupTests.contents(folder) == ["backup.sqlite", "notes.sqlite"])
        }
    }

    @Test func aRestoreRefusesToReplaceADatabaseUnlessForced() async throws {
        try await TestDatabase.sqlite.with { _, url in
            try await SQLiteBackupTests.inFolder { folder in
                let backup = folder.appendingPathComponent("backup.sqlite").path
                _ = try await SQLiteBackup.backup(url, to: backup, replacing: false, logger: SQLiteBackupTests.logger)
                let live = folder.appendingPathComponent("live.sqlite").path
                try Data("the old database".utf8).write(to: URL(fileURLWithPath: live))
                try Data("a stale log".utf8).write(to: URL(fileURLWithPath: live + "-wal"))
                let error = await #expect(throws: BackupError.targetExists(path: live, restoring: true)) {
                    try await SQLiteBackup.restore(
                        from: backup,
                        to: .sqlite(path: live),
                        replacing: false,
                        logger: SQLiteBackupTests.logger
                    )
                }
                #expect(error?.description.contains("Stop the server") == true)
                let report = try await SQLiteBackup.restore(
                    from: backup,
                    to: .sqlite(path: live),
                    replacing: true,
                    logger: SQLiteBackupTests.logger
                )
                #expect(report.migrationVersion == Migrator.latestVersion)
                #expect(
                    try SQLiteBackupTests.contents(folder) == ["backup.sqlite", "live.sqlite"],
                    "the stale log is gone"
                )
                let checked = try await SQLiteBackup.check(live, logger: SQLiteBackupTests.logger)
                #expect(checked.migrationVersion == Migrator.latestVersion)
            }
        }
    }
}
