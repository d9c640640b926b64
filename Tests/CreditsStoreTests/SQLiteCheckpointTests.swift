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
        let (store, folder) = try await SQLiteCheckpointTests.openStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try await store.writerCheckpointThreshold() == SQLiteStore.walPagesMax)
        #expect(SQLiteStore.walPagesMax >= 25_000, "a send of 100,000 texts (~100 MB of log) stays under it")
        // 8 MB of rows: 2,000 pages, twice SQLite's automatic threshold, which would have made
        // this COMMIT checkpoint.
        try await SQLiteCheckpointTests.write(pages: 2000, to: store)
        let done = try await SQLiteCheckpointTests.settled(store)
        #expect(done.logPages >= 2000, "the log holds the write: \(done)")
        #expect(done.copiedPages == done.logPages, "every page copied into the database: \(done)")
        let rows = try await store.read { sql in try await sql.raw("SELECT COUNT(*) AS n FROM scratch").first() }
        #expect(try rows?.decode(column: "n", as: Int.self) == 2000)
        await store.close()
    }

    /// Once the checkpointer has copied the whole log (writes paused), the writer's next
    /// transaction starts the log over. Under writes that never pause the log grows to the
    /// writer's backstop instead (measured in BENCHMARKS.md: ~200 MB during a big settle).
    @Test func theLogStartsOverOnceCopied() async throws {
        let (store, folder) = try await SQLiteCheckpointTests.openStore()
        defer { try? FileManager.default.removeItem(at: folder) }
        for _ in 0..<20 { try await SQLiteCheckpointTests.write(pages: 100, to: store) }
        let copied = try await SQLiteCheckpointTests.settled(store)
        #expect(copied.logPages >= 100 && copied.copiedPages == copied.logPages, "\(copied)")
        try await store.transaction { sql in try await sql.raw("INSERT INTO scratch (x) VALUES (x'00')").run() }
        let after = try await SQLiteCheckpointTests.settled(store)
        #expect(after.logPages < 10, "the log started over: \(after)")
        await store.close()
    }

    /// A store in a folder of its own, with an empty table `scratch` (the caller removes the
    /// folder).
    static func openStore() async throws -> (SQLiteStore, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try await SQLiteStore.open(
            path: folder.appendingPathComponent("db.sqlite").path,
            logger: TestDatabase.quietLogger
        )
        try await store.transaction { sql in try await sql.raw("CREATE TABLE scratch (x BLOB NOT NULL)").run() }
        return (store, folder)
    }

    /// One transaction of `pages` rows of 4,000 random bytes, about a page each.
    static func write(pages: Int, to store: SQLiteStore) async throws {
        try await store.transaction { sql in
            try await sql.raw(
                """
                WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(bind: pages))
                INSERT INTO scratch (x) SELECT randomblob(4000) FROM n
                """
            ).run()
        }
    }

    /// The checkpointer's checkpoint once it has checkpointed every write so far and copied the
    /// whole log (no reader holds pages back here), waiting up to ten seconds.
    static func settled(_ store: SQLiteStore) async throws -> Checkpointer.Checkpoint {
        for _ in 0..<500 {
            if let done = store.settledCheckpoint, done.copiedPages == done.logPages { return done }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try #require(store.settledCheckpoint, "a checkpoint after the writes")
    }
}
