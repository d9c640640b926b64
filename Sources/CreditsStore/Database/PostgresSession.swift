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
/// another kind of bind, goes through PostgresKit as before.
struct PostgresSession: SQLDatabase {
    let connection: PostgresConnection
    private let sql: any SQLDatabase

    init(_ connection: PostgresConnection) {
        self.connection = connection
        self.sql = connection.sql()
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
        if query is ReusedStatement, !ReusedStatement.failed(on: connection),
            let name = ReusedStatement.names.name(of: text)
        {
            do {
                let statement = ReusedStatement.Prepared(binds: binds)
                let rows = try await ReusedStatement.Prepared.$current.withValue((name, text)) {
                    try await connection.execute(statement, logger: logger)
                }
                for try await row in rows { onRow(PostgresCellRow(row)) }
                return
            } catch {
                ReusedStatement.fail(on: connection)
                throw error
            }
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

extension ReusedStatement {
    /// The names of the texts reused in this process.
    static let names = StatementNames(limit: 64)

    /// Connections on which a reused statement failed. PostgresNIO remembers a failed preparation
    /// for as long as the connection lives and answers every later run of the same name with that
    /// error, even once its cause is gone (a table not there yet, a lock that timed out); there
    /// reused statements run as every other statement does, parsed each time.
    private static let failures = Mutex<Set<ObjectIdentifier>>([])

    static func failed(on connection: PostgresConnection) -> Bool {
        failures.withLock { $0.contains(ObjectIdentifier(connection)) }
    }

    static func fail(on connection: PostgresConnection) {
        _ = failures.withLock { $0.insert(ObjectIdentifier(connection)) }
    }

    /// PostgresNIO prepares a statement once per connection (`Parse` the first time, then only
    /// `Bind` and `Execute`) for a type whose static `name` and `sql` say what to prepare. Here
    /// they are the text being run, read from a task-local set around the one `execute` call.
    struct Prepared: PostgresPreparedStatement {
        typealias Row = PostgresRow
        @TaskLocal static var current = (name: "", sql: "")
        static var name: String { current.name }
        static var sql: String { current.sql }

        let binds: PostgresBindings

        func makeBindings() -> PostgresBindings { binds }
        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }
}

/// The names of reused statements, by text: a text has one name on every connection, and a name
/// never stands for two texts. At most `limit` texts get one (PostgreSQL keeps each on every
/// connection that ran it: a ledger batch's text varies with the tables and accounts it writes,
/// and a rare shape should not hold memory on every connection); the others run unnamed.
final class StatementNames: Sendable {
    let limit: Int
    private let names = Mutex<[String: String]>([:])

    init(limit: Int) { self.limit = limit }

    /// The text's name ("textcredits_1", …), or nil once `limit` other texts have one.
    func name(of text: String) -> String? {
        names.withLock { names in
            if let name = names[text] { return name }
            guard names.count < limit else { return nil }
            let name = "textcredits_\(names.count + 1)"
            names[text] = name
            return name
        }
    }
}
