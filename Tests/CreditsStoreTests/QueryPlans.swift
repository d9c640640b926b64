import SQLKit

@testable import CreditsStore

/// The plans the stores choose, for tests that hold a query to an index whatever the planner's
/// statistics say.
enum QueryPlans {
    /// Refreshes the planner's statistics of these tables.
    static func analyze(_ tables: [String], on database: any Database) async throws {
        try await database.transaction { sql in
            for table in tables { try await sql.raw("ANALYZE \(unsafeRaw: table)").run() }
        }
    }

    /// The plan the store would run a query with, as text; with `executed`, PostgreSQL runs it
    /// and reports what each step read (`EXPLAIN ANALYZE`; SQLite has only the plan).
    static func plan(_ query: SQLQueryString, on database: any Database, executed: Bool = false) async throws
        -> String
    {
        let postgres = database.dialect == .postgres
        var statement: SQLQueryString =
            postgres ? (executed ? "EXPLAIN (ANALYZE, COSTS OFF) " : "EXPLAIN ") : "EXPLAIN QUERY PLAN "
        statement += query
        let explain = statement
        return try await database.read { sql in
            try await sql.raw(explain).all().map {
                try $0.decode(column: postgres ? "QUERY PLAN" : "detail", as: String.self)
            }.joined(separator: "\n")
        }
    }

    /// `WITH RECURSIVE n (i)`: the numbers 1 to `count`, for inserting rows in bulk.
    static func numbers(_ count: Int) -> String {
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count))"
    }

    /// An organisation `org_<name>` and `count` of its texts, queued (`msg_<name>1`…), in the
    /// campaign `campaign` if one is named (the campaign's row is the caller's).
    static func queueTexts(_ count: Int, name: String, campaign: String? = nil, in sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            INSERT INTO organizations (id, name, country, time_zone, created_at)
            VALUES (\(bind: "org_\(name)"), \(bind: name), 'US', 'America/Chicago', 0)
            """
        ).run()
        if let campaign {
            try await sql.raw(
                """
                INSERT INTO ledger_accounts (id, organization_id, kind, created_at)
                VALUES (\(bind: "acc_\(name)"), \(bind: "org_\(name)"), 'pool', 0)
                """
            ).run()
            try await sql.raw(
                """
                INSERT INTO campaigns (id, organization_id, account_id, actor, actor_name, body, channel, automated,
                    not_before, status, requested, accepted, skipped, credits_reserved, created_at)
                VALUES (\(bind: campaign), \(bind: "org_\(name)"), \(bind: "acc_\(name)"), 'system', 'System', 'Hi', 'sms', 0,
                    1, 'sending', \(bind: count), \(bind: count), '{}', 0, 1)
                """
            ).run()
        }
        try await sql.raw(
            """
            \(unsafeRaw: numbers(count)) INSERT INTO messages (id, organization_id, campaign_id, direction, kind, from_number,
                to_number, body, channel, segments, credits, status, not_before, created_at, updated_at)
            SELECT \(bind: "msg_\(name)") || i, \(bind: "org_\(name)"), \(bind: campaign), 'outbound', 'notice',
                '+14155550100', '+14155550181', 'Hi', 'sms', 1, 0, 'queued', 1, 1, 1 FROM n
            """
        ).run()
    }
}
