import Foundation
import Logging
import NIOCore
import SQLKit
import Synchronization
import TestSupport
import Testing

@testable import CreditsStore

/// Bulk writes that take several statements (more rows than one statement holds) write every row
/// once, in order (the order an auto-increment key records, which entries and the audit log rely
/// on), with each value as given; a statement that fails is the last one run, and the caller's
/// transaction then keeps none of them.
@Suite struct BulkRowsStoreTests {
    static let stores = TestDatabase.available

    /// A row of the probe table. Its `position` column is named like the ordinality PostgreSQL's
    /// bulk rows were sorted by unqualified, which then sorted them by this column instead.
    struct Probe: Sendable, Equatable {
        var id: String
        var position: Int64
        var note: String?
    }

    static let table = BulkTable<Probe>(
        name: "bulk_probe",
        columns: [
            .text("id") { $0.id }, .bigint("position") { $0.position }, .text("note") { $0.note },
        ]
    )

    static let notes = BulkTable<Probe>(
        name: "bulk_probe",
        columns: [.text("id") { $0.id }, .text("note") { $0.note }]
    )

    /// Rows whose positions do not follow their order, so reading them back by the order they were
    /// written in (`seq`) is not the same as sorting them.
    static func probes(_ count: Int, from start: Int = 0, note: (Int) -> String? = { "note \($0)" }) -> [Probe] {
        (start..<start + count).map { Probe(id: "p\($0)", position: Int64($0 * 7_919 % 100_003), note: note($0)) }
    }

    static func stored(_ database: any Database) async throws -> [Probe] {
        try await database.read { sql in
            try await sql.raw("SELECT id, position, note FROM bulk_probe ORDER BY seq").all().map {
                Probe(id: try $0.value("id"), position: try $0.value("position"), note: try $0.optional("note"))
            }
        }
    }

    static func create(_ database: any Database) async throws {
        try await database.transaction { sql in
            let key = DDL.serialKey(sql.storeDialect)
            try await sql.raw(
                "CREATE TABLE bulk_probe (seq \(unsafeRaw: key), id TEXT NOT NULL UNIQUE, position BIGINT NOT NULL, note TEXT)"
            ).run()
        }
    }

    @Test(arguments: stores)
    func rowsOfSeveralStatementsAreWrittenOnceInOrder(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            try await Self.create(database)
            let count = BulkRows.rowsPerStatementMax * 2 + 3
            #expect(BulkRows.chunkRanges(count).count == 3)
            let rows = Self.probes(count) { $0 % 7 == 0 ? nil : "it's \($0) \u{1F600}" }
            try await database.transaction { sql in try await BulkRows.insert(sql, into: Self.table, rows: rows) }
            #expect(try await Self.stored(database) == rows)

            let changed = rows.enumerated().map { index, row in
                Probe(id: row.id, position: row.position, note: index % 5 == 0 ? nil : "changed '\(index)'")
            }
            try await database.transaction { sql in try await BulkRows.update(sql, Self.notes, rows: changed.reversed())
            }
            #expect(try await Self.stored(database) == changed)
        }
    }

    @Test(arguments: stores)
    func aFailingStatementThrowsAndTheTransactionKeepsNone(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            try await Self.create(database)
            let first = Self.probes(10)
            try await database.transaction { sql in try await BulkRows.insert(sql, into: Self.table, rows: first) }
            // The second of three statements repeats an id already stored.
            let size = BulkRows.rowsPerStatementMax
            var clashing = Self.probes(size * 2 + 3, from: 100)
            clashing[size + 17].id = "p3"
            let rows = clashing
            await #expect(throws: (any Error).self) {
                try await database.transaction { sql in try await BulkRows.insert(sql, into: Self.table, rows: rows) }
            }
            #expect(try await Self.stored(database) == first)
        }
    }

    /// A database that runs statements through another and refuses the `failingAt`-th one.
    final class RefusingDatabase: SQLDatabase {
        struct Refused: Error {}

        let base: any SQLDatabase
        let failingAt: Int
        private let count = Mutex(0)

        init(_ base: any SQLDatabase, failingAt: Int) {
            self.base = base
            self.failingAt = failingAt
        }

        /// Statements asked to run, the refused one included.
        var statements: Int { count.withLock { $0 } }

        var logger: Logger { base.logger }
        var eventLoop: any EventLoop { base.eventLoop }
        var dialect: any SQLDialect { base.dialect }

        func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void)
            -> EventLoopFuture<Void>
        {
            let number = count.withLock {
                $0 += 1
                return $0
            }
            guard number != failingAt else { return eventLoop.makeFailedFuture(Refused()) }
            return base.execute(sql: query, onRow)
        }

        func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
            let number = count.withLock {
                $0 += 1
                return $0
            }
            guard number != failingAt else { throw Refused() }
            try await base.execute(sql: query, onRow)
        }
    }

    @Test(arguments: stores)
    func aFailedStatementIsTheLastOneRun(_ store: TestDatabase) async throws {
        try await store.with { database, _ in
            try await Self.create(database)
            let size = BulkRows.rowsPerStatementMax
            let rows = Self.probes(size * 2 + 3)
            try await database.transaction { sql in
                let refusing = RefusingDatabase(sql, failingAt: 2)
                await #expect(throws: RefusingDatabase.Refused.self) {
                    try await BulkRows.insert(refusing, into: Self.table, rows: rows)
                }
                // The first statement ran; the second was refused; the third was never asked for.
                #expect(refusing.statements == 2)
                let stored = try await sql.raw("SELECT COUNT(*) AS n FROM bulk_probe").first()?.decode(
                    column: "n",
                    as: Int.self
                )
                #expect(stored == size)
            }
        }
    }
}
