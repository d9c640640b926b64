/// One versioned schema change. Statements may differ per dialect; both stores end with the same
/// tables, keys and constraints.
public struct Migration: Sendable {
    /// Applied in increasing order, each exactly once.
    public let version: Int
    /// What it does, for `textcredits migrate`.
    public let name: String
    /// The SQL for a dialect.
    public let statements: @Sendable (StoreDialect) -> [String]
    /// CHECK constraints SQLite widens in place (it cannot alter a constraint; PostgreSQL's
    /// statements replace them instead).
    public var sqliteWidenings: [SQLiteWidening] = []
    /// True when its SQLite statements rebuild a table that other tables' foreign keys point at:
    /// it runs with enforcement off and every key checked before the commit.
    public var sqliteRebuildsTables: Bool = false

    public init(
        version: Int,
        name: String,
        sqliteWidenings: [SQLiteWidening] = [],
        sqliteRebuildsTables: Bool = false,
        statements: @escaping @Sendable (StoreDialect) -> [String]
    ) {
        self.version = version
        self.name = name
        self.statements = statements
        self.sqliteWidenings = sqliteWidenings
        self.sqliteRebuildsTables = sqliteRebuildsTables
    }
}

/// One CHECK constraint of a SQLite table replaced by a wider one that every stored row already
/// satisfies: the table's text in `sqlite_schema` is edited in the migration's transaction and
/// the schema version bumped (SQLite's documented procedure for changes that leave the stored
/// rows untouched), instead of rebuilding a table other tables' foreign keys point at.
public struct SQLiteWidening: Sendable {
    public let table: String
    public let from: String
    public let to: String

    public init(table: String, from: String, to: String) {
        self.table = table
        self.from = from
        self.to = to
    }
}

/// Small pieces of DDL that differ between SQLite and PostgreSQL.
enum DDL {
    /// An auto-incrementing 64-bit primary key, for rows whose order matters (entries, audit).
    static func serialKey(_ dialect: StoreDialect) -> String {
        dialect == .sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    }

    /// Triggers that refuse UPDATE and DELETE on an append-only table.
    static func appendOnly(_ table: String, _ dialect: StoreDialect) -> [String] {
        switch dialect {
        case .sqlite:
            return ["UPDATE", "DELETE"].map { action in
                """
                CREATE TRIGGER \(table)_append_only_\(action.lowercased()) BEFORE \(action) ON \(table)
                BEGIN SELECT RAISE(ABORT, '\(table) is append-only'); END
                """
            }
        case .postgres:
            return [
                """
                CREATE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE ON \(table)
                FOR EACH ROW EXECUTE FUNCTION textcredits_refuse_change()
                """
            ]
        }
    }
}
