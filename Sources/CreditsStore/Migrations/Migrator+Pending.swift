import SQLKit

extension Migrator {
    /// The migrations this program knows that the database has not applied (all of them for a
    /// database never migrated): a server is ready only when there are none.
    public static func pending(_ database: any Database) async throws -> [Migration] {
        let applied = try await database.read { sql in
            let tables = try await sql.raw(
                database.dialect == .postgres
                    ? "SELECT 1 AS found FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
                    : "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            ).all()
            guard !tables.isEmpty else { return Set<Int>() }
            return Set(
                try await sql.raw("SELECT version FROM schema_migrations").all().map {
                    try $0.decode(column: "version", as: Int.self)
                }
            )
        }
        return all.filter { !applied.contains($0.version) }
    }
}
