import Foundation
import SQLKit
import TestSupport
import Testing

@testable import CreditsStore

/// SQLite's write-ahead log is copied back into the database file by a connection of its own,
/// after writes, not by the writer inside a `COMMIT` on the write lock that every other writer
/// waits for; the writer checkpoints itself only past a backstop far above one send's writes.
@Suite struct SQLiteCheckpointTests {
    @Test func theLogIsCheckpointedByItsOwnConnectionNotInTheWritersCommit() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await SQLiteStore.open(
            path: folder.appendingPathComponent("db.sqlite").path,
            logger: TestDatabase.quietLogger
        )
        #expect(try await store.writerCheckpointThreshold() == SQLiteStore.walPagesMax)
        #expect(SQLiteStore.walPagesMax >= 25_000, "a send of 100,000 texts (~100 MB of log) stays under it")
        try await store.transaction { sql in try await sql.raw("CREATE TABLE scratch (x BLOB NOT NULL)").run() }
        // 8 MB of rows: 2,000 pages, twice SQLite's automatic threshold, which would have made
        // this COMMIT checkpoint.
        try await store.transaction { sql in
            try await sql.raw(
                """
                WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                INSERT INTO scratch (x) SELECT randomblob(4000) FROM n
                """
            ).run()
        }
        // The pass after the write (an earlier pass may have checkpointed the table's creation).
        var checkpoint = store.lastCheckpoint
        for _ in 0..<500 where (checkpoint?.logPages ?? 0) < 2000 {
            try await Task.sleep(for: .milliseconds(20))
            checkpoint = store.lastCheckpoint
        }
        let done = try #require(checkpoint, "the checkpointer ran after the write")
        #expect(done.logPages >= 2000, "the log holds the write: \(done)")
        #expect(done.copiedPages == done.logPages, "every page copied into the database: \(done)")
        let rows = try await store.read { sql in try await sql.raw("SELECT COUNT(*) AS n FROM scratch").first() }
        #expect(try rows?.decode(column: "n", as: Int.self) == 2000)
        await store.close()
    }
}
