import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization

/// One pooled PostgreSQL connection as SQLKit sees it, with rows that read the common column
/// types straight from their cells.
///
/// PostgresKit's rows look every column up by name twice and send every value through its
/// general translation (a coding path allocated per value, dynamic casts to find the type's own
/// decoder, workarounds for Fluent's enums and decimals): about a tenth of the CPU of a
/// 20,000-message send and of posting holds. Here a query whose binds PostgresNIO encodes itself
/// (strings, integers, dates, arrays — which PostgresKit also hands to PostgresNIO unchanged — and
/// nil, sent as a NULL of its wrapped type, as PostgresKit sends it) goes to the connection
/// directly, and its rows decode `String`, `Int64`, `Int`, `Int32` and `Bool` through PostgresNIO's
/// own decoders, exactly as PostgresKit's fast path does; any other type, and any query with
/// another kind of bind, goes through PostgresKit as before. A `ReusedStatement` runs as the
/// store's named prepared statement (`ReusedStatements`), any other statement unnamed.
struct PostgresSession: SQLDatabase {
    let connection: PostgresConnection
    private let sql: any SQLDatabase
    /// The store's prepared statements (`ReusedStatement`); nil runs them unnamed.
    let reused: ReusedStatements?

    init(_ connection: PostgresConnection, reused: ReusedStatements? = nil) {
        self.connection = connection
        self.sql = connection.sql()
        self.reused = reused
    }

    var logger: Logger { sql.logger }
    var eventLoop: any EventLoop { sql.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { sql.version }
    var dialect: any SQLDialect { sql.dialect }
    var queryLogLevel: Logger.Level? { sql.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void)
        -> EventLoopFuture<Void>
    {
        sql.execute(sql: query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let (text, values) = serialize(query)
        guard let binds = try Self.bindings(values) else { return try await sql.execute(sql: query, onRow) }
        if let level = queryLogLevel {
            logger.log(
                level: level,
                "Executing query",
                metadata: ["sql": .string(text), "binds": .array(values.map { .string("\($0)") })]
            )
        }
        if query is ReusedStatement, let reused, let name = reused.name(of: text, on: connection) {
            let statement = ReusedStatements.Prepared(binds: binds)
            let rows: AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow>
            do {
                rows = try await ReusedStatements.Prepared.$current.withValue((name, text)) {
                    try await connection.execute(statement, logger: logger)
                }
            } catch {
                // Parsing or binding failed (a statement failing as it runs fails below instead).
                reused.failed(on: connection)
                throw error
            }
            for try await row in rows { onRow(PostgresCellRow(row)) }
            return
        }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger)
        for try await row in rows { onRow(PostgresCellRow(row)) }
    }

    /// The binds as PostgresNIO encodes them, or nil if one needs PostgresKit's translation.
    static func bindings(_ values: [any Encodable & Sendable]) throws -> PostgresBindings? {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            guard try append(value, to: &binds) else { return nil }
        }
        return binds
    }

    /// Appends a bind as PostgresKit would: PostgresNIO's encoding for its types, and for nil a
    /// NULL typed as the optional's wrapped type (PostgresKit's `PostgresDataConvertible` path), so
    /// `\(bind: x) IS NULL` or `pg_typeof` still know the parameter's type. False for any other
    /// value, which then takes PostgresKit's path.
    private static func append<Value: Encodable>(_ value: Value, to binds: inout PostgresBindings) throws -> Bool {
        if let optional = value as? any OptionalBind, optional.isNone {
            guard let type = type(of: optional).wrappedType else { return false }
            binds.append(PostgresData(type: type))
        } else if let value = value as? any PostgresThrowingDynamicTypeEncodable {
            try binds.append(value)
        } else {
            return false
        }
        return true
    }
}

/// A row of `PostgresSession`: `String`, `Int64`, `Int`, `Int32` and `Bool` columns are decoded by
/// PostgresNIO directly; anything else by PostgresKit's row.
struct PostgresCellRow: SQLRow {
    let row: PostgresRow
    let cells: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row
        self.cells = row.makeRandomAccess()
    }

    var allColumns: [String] { cells.map(\.columnName) }

    func contains(column: String) -> Bool { cells.contains(column) }

    func decodeNil(column: String) throws -> Bool { !cells.contains(column) || cells[column].bytes == nil }

    func decode<T: Decodable>(column: String, as type: T.Type) throws -> T {
        guard cells.contains(column) else { return try row.sql().decode(column: column, as: T.self) }
        let cell = cells[column]
        if T.self == String.self, !cell.dataType.isUserDefined {
            return unsafeBitCast(try cell.decode(String.self), to: T.self)
        } else if T.self == Int64.self {
            return unsafeBitCast(try cell.decode(Int64.self), to: T.self)
        } else if T.self == Int.self {
            return unsafeBitCast(try cell.decode(Int.self), to: T.self)
        } else if T.self == Int32.self {
            return unsafeBitCast(try cell.decode(Int32.self), to: T.self)
        } else if T.self == Bool.self {
            return unsafeBitCast(try cell.decode(Bool.self), to: T.self)
        }
        return try row.sql().decode(column: column, as: T.self)
    }
}

/// An optional bind, to tell `nil` from a value inside an existential (`value as Any?` wraps a
/// nil optional rather than seeing it) and to name the type of its NULL.
private protocol OptionalBind {
    var isNone: Bool { get }
    /// The PostgreSQL type of the wrapped type, if PostgresNIO encodes it.
    static var wrappedType: PostgresDataType? { get }
}

extension Optional: OptionalBind {
    fileprivate var isNone: Bool { self == nil }
    fileprivate static var wrappedType: PostgresDataType? { (Wrapped.self as? any PostgresEncodable.Type)?.psqlType }
}

/// A store's named prepared statements (`ReusedStatement`): the name each text has on its
/// connections, and the connections where they are not used.
///
/// - A text has one name on every connection of the store, and a name never stands for two
///   texts. Names carry a random prefix of the store's, so two processes behind one pooler never
///   give one name to two texts. (A transaction-mode pooler that does not keep prepared statements
///   per client, such as pgbouncer before 1.21 or without `max_prepared_statements`, is not
///   supported: a statement prepared on one server connection would be missing on the next.)
/// - At most `limit` texts get a name, first come first served, and keep it; any other runs
///   unnamed. PostgreSQL keeps each named text on every connection that ran it, and a ledger
///   batch's text varies with the tables and the accounts it writes, so this bounds that memory.
/// - A connection where parsing or binding a named statement failed runs them unnamed for the
///   rest of its life: PostgresNIO remembers a failed preparation for the connection's life and
///   would answer every later run of that name there with the first error, even once its cause
///   is gone (a table not there yet, a lock that timed out). A statement that fails as it runs
///   (a conflict, a deadlock) changes nothing.
/// - The binds of a text must have the same types at every run (PostgreSQL typed its parameters
///   at the first); the ledger's texts name each bind's type with a cast or take one Swift type.
final class ReusedStatements: Sendable {
    let limit: Int
    let prefix: String
    private let names = Mutex<[String: String]>([:])
    private let failures = Mutex<Set<ObjectIdentifier>>([])

    init(limit: Int = 64) {
        self.limit = limit
        self.prefix = "textcredits_\(String(UInt32.random(in: 0...UInt32.max), radix: 16))_"
    }

    /// The text's name ("textcredits_<prefix>_1", …), or nil where it runs unnamed.
    func name(of text: String, on connection: PostgresConnection) -> String? {
        guard !failures.withLock({ $0.contains(ObjectIdentifier(connection)) }) else { return nil }
        return name(of: text)
    }

    /// The text's name, or nil once `limit` other texts have one.
    func name(of text: String) -> String? {
        names.withLock { names in
            if let name = names[text] { return name }
            guard names.count < limit else { return nil }
            let name = prefix + String(names.count + 1)
            names[text] = name
            return name
        }
    }

    /// Runs named statements unnamed on `connection` from now on; forgotten once it closes.
    func failed(on connection: PostgresConnection) {
        let key = ObjectIdentifier(connection)
        guard failures.withLock({ $0.insert(key).inserted }) else { return }
        connection.closeFuture.whenComplete { [self] _ in _ = failures.withLock { $0.remove(key) } }
    }

    /// PostgresNIO prepares a statement once per connection (`Parse` the first time, then only
    /// `Bind` and `Execute`) for a type whose static `name` and `sql` say what to prepare. Here
    /// they are the text being run, read from a task-local set around the one `execute` call
    /// (PostgresNIO reads them there, and keeps its own copies).
    struct Prepared: PostgresPreparedStatement {
        typealias Row = PostgresRow
        @TaskLocal static var current = (name: "", sql: "")
        static var name: String {
            precondition(!current.name.isEmpty, "a reused statement runs inside its name's scope")
            return current.name
        }
        static var sql: String { current.sql }

        let binds: PostgresBindings

        func makeBindings() -> PostgresBindings { binds }
        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }
}
