import Foundation
import PostgresKit
import PostgresNIO
import SQLKit
import TestSupport
import Testing

@testable import CreditsStore

/// Every PostgreSQL statement reaches the connection through `PostgresSession`, whose rows decode
/// common types themselves: they must read what PostgresKit's rows read, for every type, bind and
/// NULL, and leave the rest to PostgresKit.
@Suite struct PostgresSessionTests {
    struct Tag: Codable, Sendable, Equatable {
        var name: String
    }

    static func read(_ row: any SQLRow) throws -> String {
        #expect(throws: (any Error).self) { try row.decode(column: "missing", as: String.self) }
        #expect(throws: (any Error).self) { try row.decode(column: "nothing", as: String.self) }
        let parts: [String] = [
            try row.decode(column: "key", as: String.self),
            String(try row.decode(column: "position", as: Int64.self)),
            String(try row.decode(column: "position", as: Int.self)),
            String(try row.decode(column: "small", as: Int32.self)),
            String(try row.decode(column: "even", as: Bool.self)),
            try row.decode(column: "organization", as: String.self),
            String(try row.decodeNil(column: "nothing")),
            try row.decode(column: "nothing", as: String?.self) ?? "NULL",
            try row.decode(column: "odd", as: String?.self) ?? "NULL",
            String(try row.decodeNil(column: "odd")),
            String(try row.decode(column: "quarter", as: Double.self)),
            String(try row.decode(column: "eighth", as: Double.self)),
            String(try row.decode(column: "seven", as: Int.self)),
            try row.decode(column: "some", as: String.self),
            try row.decode(column: "keys", as: [String].self).joined(separator: ","),
            String(row.contains(column: "missing")),
            String(try row.decodeNil(column: "missing")),
            row.allColumns.joined(separator: ","),
        ]
        return parts.joined(separator: "|")
    }

    @Test(.enabled(if: TestDatabase.available.contains(.postgres)))
    func rowsReadWhatPostgresKitsRowsRead() async throws {
        try await TestDatabase.postgres.with { database, _ in
            try await database.transaction { sql in
                let session = try #require(sql as? PostgresSession)
                let keys = ["a", "O'Brien", "😀", "'); DROP TABLE ledger_holds; --"]
                let none: String? = nil
                let query: SQLQueryString = """
                    SELECT k AS key, CAST(n AS bigint) AS position, CAST(n AS integer) AS small, n % 2 = 0 AS even,
                           \(bind: "org_1") AS organization, CAST(\(bind: none) AS text) AS nothing,
                           CASE WHEN n % 2 = 0 THEN NULL ELSE k END AS odd, CAST(n AS numeric) / 4 AS quarter,
                           CAST(n AS double precision) / 8 AS eighth, \(bind: 7 as Int) AS seven,
                           \(bind: Optional("x")) AS some, \(bind: keys) AS keys
                    FROM unnest(CAST(\(bind: keys) AS text[])) WITH ORDINALITY AS t (k, n) ORDER BY n
                    """
                let ours = try await sql.raw(query).all()
                #expect(ours.count == 4 && ours.allSatisfy { $0 is PostgresCellRow })
                let theirs = try await session.connection.sql().raw(query).all()
                #expect(!theirs.contains { $0 is PostgresCellRow })
                let read = try ours.map(Self.read)
                #expect(read == (try theirs.map(Self.read)))
                #expect(
                    read.map { $0.split(separator: "|").prefix(5).joined(separator: "|") } == [
                        "a|1|1|1|false", "O'Brien|2|2|2|true", "😀|3|3|3|false",
                        "'); DROP TABLE ledger_holds; --|4|4|4|true",
                    ]
                )

                // A nil bind is a NULL of its wrapped type, as PostgresKit sends it: the server can
                // name its type without a cast around it.
                let noneInt: Int64? = nil
                let noneText: String? = nil
                let noneList: [String]? = nil
                let nulls: SQLQueryString = """
                    SELECT CAST(pg_typeof(\(bind: noneInt)) AS text) AS int_type,
                           CAST(pg_typeof(\(bind: noneText)) AS text) AS text_type,
                           CAST(pg_typeof(\(bind: noneList)) AS text) AS list_type, \(bind: noneText) IS NULL AS missing
                    """
                let readNulls: (any SQLRow) throws -> String = { row in
                    try ["int_type", "text_type", "list_type"].map { try row.decode(column: $0, as: String.self) }
                        .joined(separator: ",") + "|\(try row.decode(column: "missing", as: Bool.self))"
                }
                let nullRows = try await sql.raw(nulls).all()
                #expect(nullRows.count == 1 && nullRows[0] is PostgresCellRow)
                #expect(try nullRows.map(readNulls) == ["bigint,text,text[]|true"])
                #expect(
                    try (try await session.connection.sql().raw(nulls).all()).map(readNulls) == nullRows.map(readNulls)
                )

                // A bind PostgresNIO cannot encode itself (here JSON) takes PostgresKit's path.
                let json: SQLQueryString = "SELECT CAST(\(bind: Tag(name: "json")) AS jsonb) AS tag"
                let jsonRows = try await sql.raw(json).all()
                #expect(jsonRows.count == 1 && !(jsonRows[0] is PostgresCellRow))
                #expect(try jsonRows[0].decode(column: "tag", as: Tag.self) == Tag(name: "json"))
            }
        }
    }

    /// The prepared statements the session's connection holds: name and text of each.
    static func prepared(on sql: any SQLDatabase) async throws -> [(name: String, text: String)] {
        try await sql.raw("SELECT name, statement FROM pg_prepared_statements ORDER BY name").all().map {
            (try $0.decode(column: "name", as: String.self), try $0.decode(column: "statement", as: String.self))
        }
    }

    /// A `ReusedStatement` is parsed once per connection and kept under one name for its text:
    /// run again with other binds it reads the same rows as the statement run plainly, and the
    /// connection holds one prepared statement for it, not one per run. (Run through the unnamed
    /// statement, as every other statement is, the connection would hold none.)
    @Test(.enabled(if: TestDatabase.available.contains(.postgres)))
    func aReusedStatementIsPreparedOnceOnItsConnection() async throws {
        try await TestDatabase.postgres.with { database, _ in
            try await database.read { sql in
                func query(_ keys: [String]) -> SQLQueryString {
                    """
                    SELECT k AS key, CAST(n AS bigint) AS position FROM unnest(CAST(\(bind: keys) AS text[]))
                    WITH ORDINALITY AS t (k, n) WHERE k <> \(bind: "skip") ORDER BY n
                    """
                }
                let read: (any SQLRow) throws -> String = { row in
                    "\(try row.decode(column: "key", as: String.self))=\(try row.decode(column: "position", as: Int64.self))"
                }
                for keys in [["a", "skip", "O'Brien"], ["😀"], [], ["x", "y", "z", "skip"]] {
                    let reused = try await sql.all(ReusedStatement(query(keys)))
                    #expect(reused.allSatisfy { $0 is PostgresCellRow })
                    #expect(try reused.map(read) == (try await sql.raw(query(keys)).all()).map(read))
                }
                let text = sql.serialize(query([])).sql
                let prepared = try await Self.prepared(on: sql)
                let store = try #require(database as? PostgresStore)
                #expect(prepared.map(\.name) == [try #require(store.reused.name(of: text))])
                #expect(prepared.map(\.text) == [text])
            }
        }
    }

    /// A reused statement that fails as it runs (here a division by zero in its second row) leaves
    /// it prepared and in use on its connection: only a failure to parse or bind it turns reuse
    /// off there.
    @Test(.enabled(if: TestDatabase.available.contains(.postgres)))
    func aReusedStatementThatFailsAsItRunsStaysInUse() async throws {
        try await TestDatabase.postgres.with { database, _ in
            let store = try #require(database as? PostgresStore)
            try await database.read { sql in
                let connection = try #require(sql as? PostgresSession).connection
                func query(_ k: Int64) -> SQLQueryString {
                    "SELECT 6 / (n - \(bind: k)) AS q FROM generate_series(1, 3) AS n ORDER BY n"
                }
                #expect(
                    try (try await sql.all(ReusedStatement(query(4)))).map {
                        try $0.decode(column: "q", as: Int64.self)
                    } == [-2, -3, -6]
                )
                await #expect(throws: (any Error).self) { try await sql.all(ReusedStatement(query(2))) }
                let text = sql.serialize(query(0)).sql
                #expect(store.reused.name(of: text, on: connection) != nil)
                #expect(
                    try (try await sql.all(ReusedStatement(query(0)))).map {
                        try $0.decode(column: "q", as: Int64.self)
                    } == [6, 3, 2]
                )
                #expect(try await Self.prepared(on: sql).map(\.text) == [text])
            }
        }
    }

    /// Past its limit a store runs a new text unnamed (the connection holds only the named ones),
    /// and each store names its texts with a prefix of its own.
    @Test(.enabled(if: TestDatabase.available.contains(.postgres)))
    func pastTheLimitAReusedStatementRunsUnnamed() async throws {
        try await TestDatabase.postgres.with { database, _ in
            let store = try #require(database as? PostgresStore)
            try await database.read { sql in
                for index in 0..<(store.reused.limit + 1) {
                    let rows = try await sql.all(
                        ReusedStatement("SELECT \(bind: Int64(index)) + \(unsafeRaw: String(index)) AS v")
                    )
                    #expect(try rows.map { try $0.decode(column: "v", as: Int64.self) } == [Int64(2 * index)])
                }
                #expect(try await Self.prepared(on: sql).count == store.reused.limit)
            }
            #expect(store.reused.prefix != ReusedStatements().prefix)
        }
    }

    /// A text keeps its name, two texts never share one, and past the limit a new text gets none
    /// (it runs unnamed) while the named ones keep theirs.
    @Test func reusedStatementNamesAreOnePerTextUpToTheLimit() {
        let names = ReusedStatements(limit: 2)
        let first = names.name(of: "SELECT 1")
        #expect(first != nil && names.name(of: "SELECT 1") == first)
        let second = names.name(of: "SELECT 2")
        #expect(second != nil && second != first)
        #expect(names.name(of: "SELECT 3") == nil)
        #expect(names.name(of: "SELECT 1") == first && names.name(of: "SELECT 2") == second)
    }

    /// A reused statement whose preparation failed runs again once the cause is gone: PostgresNIO
    /// would answer every later run on that connection with the first error, for as long as the
    /// connection lives (here, a table that did not exist yet).
    @Test(.enabled(if: TestDatabase.available.contains(.postgres)))
    func aReusedStatementRunsAgainAfterItsPreparationFailed() async throws {
        try await TestDatabase.postgres.with { database, _ in
            try await database.read { sql in
                let table = "reused_later_\(UInt32.random(in: 0...UInt32.max))"
                let query: SQLQueryString = "SELECT x FROM \(unsafeRaw: table) WHERE x > \(bind: 0 as Int64)"
                await #expect(throws: (any Error).self) { try await sql.all(ReusedStatement(query)) }
                try await sql.raw("CREATE TABLE \(unsafeRaw: table) (x bigint)").run()
                try await sql.raw("INSERT INTO \(unsafeRaw: table) VALUES (1), (2)").run()
                let rows = try await sql.all(ReusedStatement(query))
                try await sql.raw("DROP TABLE \(unsafeRaw: table)").run()
                #expect(try rows.map { try $0.decode(column: "x", as: Int64.self) } == [1, 2])
            }
        }
    }

    /// SQLite runs a `ReusedStatement` as written.
    @Test func sqliteRunsAReusedStatementAsWritten() async throws {
        try await TestDatabase.sqlite.with { database, _ in
            try await database.read { sql in
                let rows = try await sql.all(ReusedStatement("SELECT \(bind: "a") AS key, 2 AS position"))
                #expect(try rows.map { try $0.decode(column: "key", as: String.self) } == ["a"])
                #expect(try rows.map { try $0.decode(column: "position", as: Int64.self) } == [2])
            }
        }
    }
}
