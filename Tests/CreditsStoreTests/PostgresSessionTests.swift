import PostgresNIO
import SQLKit
import TestSupport
import Testing

@testable import CreditsStore

/// The ledger's hot reads on PostgreSQL take SQLKit's query to the connection itself and decode
/// its rows by position; they must see what SQLKit's rows would have said.
@Suite struct PostgresSessionTests {
    @Test(.enabled(if: TestDatabase.available.contains(.postgres)))
    func rowsDecodedByPositionAreTheRowsSQLKitReads() async throws {
        try await TestDatabase.postgres.with { database, _ in
            try await database.transaction { sql in
                let session = try #require(sql as? PostgresSession)
                let keys = ["a", "O'Brien", "😀", "'); DROP TABLE ledger_holds; --"]
                let query: SQLQueryString = """
                    SELECT k AS key, CAST(n AS bigint) AS position, \(bind: "org_1") AS organization,
                           CASE WHEN n % 2 = 0 THEN NULL ELSE k END AS odd
                    FROM unnest(CAST(\(bind: keys) AS text[])) WITH ORDINALITY AS t (k, n) ORDER BY n
                    """
                var byPosition: [String] = []
                for try await (key, position, organization, odd) in try await session.rows(query).decode(
                    (String, Int64, String, String?).self
                ) {
                    byPosition.append("\(key)|\(position)|\(organization)|\(odd ?? "NULL")")
                }
                let bySQLKit = try await sql.raw(query).all().map { row in
                    let odd = try row.optional("odd", as: String.self) ?? "NULL"
                    return "\(try row.value("key", as: String.self))|\(try row.value("position", as: Int64.self))|"
                        + "\(try row.value("organization", as: String.self))|\(odd)"
                }
                #expect(byPosition == bySQLKit)
                #expect(
                    byPosition == [
                        "a|1|org_1|a", "O'Brien|2|org_1|NULL", "😀|3|org_1|😀",
                        "'); DROP TABLE ledger_holds; --|4|org_1|NULL",
                    ]
                )
            }
        }
    }
}
