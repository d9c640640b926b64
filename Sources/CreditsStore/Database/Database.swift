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
    /// Closes connections; the value must not be used afterwards.
    func close() async
}

extension Database {
    /// Serialises writers of one organisation across processes. SQLite already holds its write
    /// lock for the whole transaction, so only PostgreSQL needs the row locks.
    public func lockOrganization(_ organization: String, on sql: any SQLDatabase) async throws {
        guard dialect == .postgres else { return }
        try await sql.raw("SELECT id FROM organizations WHERE id = \(bind: organization) FOR UPDATE").run()
    }
}

/// Opens the database a URL names.
public enum DatabaseFactory {
    /// Connects (creating an SQLite file if needed). Call `Migrator.migrate` before use.
    public static func open(_ url: DatabaseURL, logger: Logger = Logger(label: "textcredits.store")) async throws -> any Database {
        switch url {
        case .sqlite(let path): try await SQLiteStore.open(path: path, logger: logger)
        case .postgres(let location): try await PostgresStore.open(location, logger: logger)
        }
    }
}
