import Foundation
import SQLKit
import TestSupport
import Testing

@testable import CreditsStore

/// Bulk writes that take several statements (more rows than one statement holds) write every row
/// once, in order, with each value as given; a statement that fails stops the rest, and the
/// caller's transaction then keeps none of them.
@Suite struct BulkRowsStoreTests {
    static let stores = TestDatabase.available

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

    static func probes(_ count: Int, from start: Int = 0, note: (Int) -> String? = { "note \($0)" }) -> [Probe] {
        (start..<start + count).map { Probe(id: "p\($0)", position: Int64($0), note: note($0)) }
    }

    static func stored(_ database: any Database) async throws -> [Probe] {
        try await database.read { sql in
            try await sql.raw("SELECT id, position, note FROM bulk_probe ORDER BY position").all().map {
                Probe(id: try $0.value("id"), position: try $0.value("position"), note: try $0.optional("note"))
            }
        }
    }

    static func create(_ database: any Database) async throws {
        try await database.transaction { sql in
            try await sql.raw("CREATE TABLE bulk_probe (id TEXT PRIMARY KEY, position BIGINT NOT NULL, note TEXT)")
                .run()
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
    func aFailedStatementStopsTheRestAndTheTransactionKeepsNone(_ store: TestDatabase) async throws {
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
}
