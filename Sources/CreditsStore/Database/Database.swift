import Logging
import SQLKit

/// The SQL flavour behind a database, for the few statements that differ.
public enum StoreDialect: String, Sendable {
    case sqlite
    case postgres
}

/// A place to run SQL: SQLite (embedded) or PostgreSQL (shared by several server processes).
///
/// One SQL layer (SQLKit) serves both; `transaction` gives serialisable writes: SQLite takes its
/// single write lock (`BEGIN IMMEDIATE`), PostgreSQL runs a transaction in which callers lock the
/// rows they change (`lockOrganization`).
public protocol Database: Sendable {
    /// Which SQL flavour this is.
    var dialect: StoreDialect { get }
    /// Runs reads outside a transaction.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs a body in one transaction: all of it is committed, or none of it.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs a body that writes with one statement, committed on its own: PostgreSQL's implicit
    /// transaction of a statement sent outside BEGIN (one round trip instead of three), SQLite's
    /// `transaction`. A body with more than one statement would commit each by itself.
    func autocommit<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Closes connections; the value must not be used afterwards.
    func close() async
}

/// One transaction that several stores write in: a service opens it with `Database.unitOfWork`
/// and hands it to each store call, so what they write commits together or not at all. Only
/// stores see the SQL connection inside.
public struct UnitOfWork: Sendable {
    let sql: any SQLDatabase
    let database: any Database

    /// The SQL flavour of the transaction.
    public var dialect: StoreDialect { database.dialect }
}

extension Database {
    /// Runs `body` in one transaction that stores write in through the unit of work.
    public func unitOfWork<T: Sendable>(_ body: @Sendable (UnitOfWork) async throws -> T) async throws -> T {
        try await transaction { sql in try await body(UnitOfWork(sql: sql, database: self)) }
    }

    /// True when the query finds a row, asked on a read connection: a poller checks this way
    /// whether there is work before it takes the write lock (SQLite's one writer, or PostgreSQL's
    /// row locks), so an idle poll costs no write transaction.
    public func anyRow(_ query: SQLQueryString) async throws -> Bool {
        try await read { sql in try await sql.raw(query).first() != nil }
    }

    /// Answers once the database does (the health check).
    public func ping() async throws {
        _ = try await read { try await $0.raw("SELECT 1 AS ok").all() }
    }

    /// Serialises writers of one organisation across processes. SQLite already holds its write
    /// lock for the whole transaction, so only PostgreSQL needs the row locks.
    public func lockOrganization(_ organization: String, on sql: any SQLDatabase) async throws {
        guard dialect == .postgres else { return }
        try await sql.raw("SELECT id FROM organizations WHERE id = \(bind: organization) FOR UPDATE").run()
    }

    /// Gives planner statistics to tables that have none yet, or that grew more than fourfold
    /// since they were last analysed, and returns their names. PostgreSQL's autovacuum does this
    /// too, but only about a minute later; until then a table that just grew from nothing (a
    /// fresh server's first big import or campaign) looks empty to the planner, which then scans
    /// it whole for every `IN (…)` lookup. Updates alone never trigger it (autovacuum covers
    /// those), so a busy outbox is not analysed over and over. SQLite's planner does not depend
    /// on statistics, so this is PostgreSQL only.
    @discardableResult
    public func refreshStatistics(rowsMin: Int = 1000) async throws -> [String] {
        guard dialect == .postgres else { return [] }
        let tables = try await read { sql in
            try await sql.raw(
                """
                SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                WHERE s.schemaname = current_schema() AND s.n_live_tup >= \(bind: rowsMin)
                  AND ((s.last_analyze IS NULL AND s.last_autoanalyze IS NULL) OR s.n_live_tup > 4 * GREATEST(c.reltuples, 0))
                ORDER BY s.relname
                """
            ).all().map { try $0.decode(column: "relname", as: String.self) }
        }
        for table in tables where table.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) {
            try await read { sql in try await sql.raw("ANALYZE \(ident: table)").run() }
        }
        return tables
    }
}

/// Opens the database a URL names.
public enum DatabaseFactory {
    /// Connects (creating an SQLite file if needed). Call `Migrator.migrate` before use.
    public static func open(_ url: DatabaseURL, logger: Logger = Logger(label: "textcredits.store")) async throws
        -> any Database
    {
        switch url {
        case .sqlite(let path): try await SQLiteStore.open(path: path, logger: logger)
        case .postgres(let location): try await PostgresStore.open(location, logger: logger)
        }
    }
}
