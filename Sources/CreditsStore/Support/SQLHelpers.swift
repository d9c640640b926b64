import Foundation
import SQLKit
import Synchronization

/// A bound SQL value (what SQLKit's `\(bind:)` takes).
public typealias SQLValue = any Encodable & Sendable

/// One value of a bulk row.
enum SQLCell: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case null

    init(_ value: Int64) { self = .int(value) }
    init(_ value: Int) { self = .int(Int64(value)) }
    init(_ value: String) { self = .text(value) }
    init(_ value: Int64?) { self = value.map(SQLCell.int) ?? .null }
    init(_ value: String?) { self = value.map(SQLCell.text) ?? .null }
}

/// The type a bulk column is read back as (PostgreSQL needs it spelled out; SQLite does not).
enum SQLColumnType: String, Sendable {
    case text
    case bigint
    case integer
}

/// A column of a bulk statement.
struct SQLColumn: Sendable {
    let name: String
    let type: SQLColumnType

    static func text(_ name: String) -> SQLColumn { SQLColumn(name: name, type: .text) }
    static func bigint(_ name: String) -> SQLColumn { SQLColumn(name: name, type: .bigint) }
    static func integer(_ name: String) -> SQLColumn { SQLColumn(name: name, type: .integer) }
}

/// A column of a bulk-written table together with how its value is taken from a row, declared
/// once, so a column's name and its value cannot drift apart.
struct BulkColumn<Row>: Sendable {
    let column: SQLColumn
    let value: @Sendable (Row) -> SQLCell

    static func text(_ name: String, _ value: @escaping @Sendable (Row) -> String?) -> BulkColumn {
        BulkColumn(column: .text(name)) { SQLCell(value($0)) }
    }

    static func bigint(_ name: String, _ value: @escaping @Sendable (Row) -> Int64?) -> BulkColumn {
        BulkColumn(column: .bigint(name)) { SQLCell(value($0)) }
    }

    static func integer(_ name: String, _ value: @escaping @Sendable (Row) -> Int?) -> BulkColumn {
        BulkColumn(column: .integer(name)) { SQLCell(value($0).map(Int64.init)) }
    }
}

/// A table written in bulk: its name and its columns, each with its value.
struct BulkTable<Row>: Sendable {
    let name: String
    let columns: [BulkColumn<Row>]

    /// The SQL columns, in order.
    var sqlColumns: [SQLColumn] { columns.map(\.column) }
}

/// Text searched with LIKE: `%` and `_` (and the escape itself) match only themselves, so a
/// search for "%" finds names with a percent sign rather than every name.
enum SQLLike {
    static func escaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

extension SQLDatabase {
    /// The store's SQL flavour: the one place the driver's dialect name is read.
    var storeDialect: StoreDialect { dialect.name == "sqlite" ? .sqlite : .postgres }

    /// The rows of a `ReusedStatement`.
    func all(_ statement: ReusedStatement) async throws -> [any SQLRow] {
        let rows = Mutex<[any SQLRow]>([])
        try await execute(sql: statement) { row in rows.withLock { $0.append(row) } }
        return rows.withLock { $0 }
    }
}

/// Bulk writes of many rows in one statement, the ledger's hot path.
///
/// - SQLite (CPU-bound, in process): the rows are written into the statement as SQL literals —
///   integers as digits, text as quoted literals (`SQLiteLiteral`) — so neither SQLKit nor the
///   driver handles thousands of binds, and SQLite's C parser reads them at once.
/// - PostgreSQL (network-bound): each column travels as one array bind in PostgreSQL's binary
///   format (`PostgresColumnArray`), unpacked by `unnest` — no JSON to write or parse, and the
///   statement's text is the same for every batch size.
///
/// Both keep the rows' order, which entries rely on for their running balances. Values are read
/// from the rows through the table's columns while a statement is written, never copied into a
/// row of cells first; when the rows take several statements, the next one is written while the
/// database runs the current one (the two run on different threads, so a large send's statements
/// cost the longer of the two rather than their sum). On PostgreSQL what overlaps is reading the
/// values into column arrays; their binary encoding happens when the statement is sent.
enum BulkRows {
    /// Rows per statement, to bound statement size.
    static let rowsPerStatementMax = 4096

    /// A row source usable after INSERT … or inside a CTE (`VALUES …` or `SELECT … FROM
    /// unnest(…)`) of a bulk table's rows, each value read through its column. `condition`
    /// (PostgreSQL only) gives no rows unless it holds.
    static func source<Row>(
        _ table: BulkTable<Row>,
        aliases: [String]? = nil,
        dialect: StoreDialect,
        rows: ArraySlice<Row>,
        condition: String? = nil
    ) -> SQLQueryString {
        let columns = table.sqlColumns
        let names = aliases ?? columns.map(\.name)
        if dialect == .sqlite {
            precondition(condition == nil, "SQLite's bulk rows take no condition")
            return SQLQueryString(SQLiteLiteral.values(rows, columns: table.columns))
        }
        let projections = names.indices.map { "c\($0) AS \(names[$0])" }.joined(separator: ", ")
        var query: SQLQueryString = "SELECT \(unsafeRaw: projections) FROM unnest("
        for (index, column) in table.columns.enumerated() {
            if index > 0 { query += ", " }
            let array = PostgresColumnArray(type: column.column.type, cells: rows.map(column.value))
            query += "CAST(\(bind: array) AS \(unsafeRaw: column.column.type.rawValue)[])"
        }
        let aliases = names.indices.map { "c\($0)" }.joined(separator: ", ")
        // Ordered by the qualified ordinality: an unqualified name would mean an output column of
        // the same name first (a table with a column called `position` would be sorted by it).
        query += ") WITH ORDINALITY AS bulk_rows (\(unsafeRaw: aliases), bulk_ordinality)"
        if let condition { query += " WHERE \(unsafeRaw: condition)" }
        query += " ORDER BY bulk_rows.bulk_ordinality"
        return query
    }

    /// A statement's text, written when asked: while the statement before it runs, or ahead of
    /// the transaction (`LedgerChangesWriter.statements`).
    typealias Statement = @Sendable () -> SQLQueryString

    /// INSERTs rows into a bulk table; `suffix` is appended (e.g. an ON CONFLICT clause).
    static func insert<Row: Sendable>(
        _ sql: any SQLDatabase,
        into table: BulkTable<Row>,
        rows: some Collection<Row>,
        suffix: String = ""
    ) async throws {
        try await run(sql, insertStatements(into: table, rows: rows, suffix: suffix, dialect: sql.storeDialect))
    }

    /// The statements of `insert`, one per chunk of rows, not yet written; `condition` as in
    /// `source`.
    static func insertStatements<Row: Sendable>(
        into table: BulkTable<Row>,
        rows: some Collection<Row>,
        suffix: String = "",
        dialect: StoreDialect,
        condition: String? = nil
    ) -> [Statement] {
        guard !rows.isEmpty else { return [] }
        let rows = Array(rows)
        let head = "INSERT INTO \(table.name) (\(table.sqlColumns.map(\.name).joined(separator: ", "))) "
        return chunkRanges(rows.count).map { range in
            {
                var query = SQLQueryString(head)
                query += source(table, dialect: dialect, rows: rows[range], condition: condition)
                if !suffix.isEmpty { query += " \(unsafeRaw: suffix)" }
                return query
            }
        }
    }

    /// UPDATEs a bulk table's columns (after the first, which is the key) of the matching rows.
    static func update<Row: Sendable>(
        _ sql: any SQLDatabase,
        _ table: BulkTable<Row>,
        rows: some Collection<Row>
    ) async throws {
        try await run(sql, updateStatements(table, rows: rows, dialect: sql.storeDialect))
    }

    /// The statements of `update`, one per chunk of rows, not yet written; `condition` as in
    /// `source`.
    static func updateStatements<Row: Sendable>(
        _ table: BulkTable<Row>,
        rows: some Collection<Row>,
        dialect: StoreDialect,
        condition: String? = nil
    )
        -> [Statement]
    {
        guard let key = table.columns.first?.column, !rows.isEmpty else { return [] }
        let rows = Array(rows)
        let columns = table.sqlColumns.dropFirst()
        let aliases = ["row_key"] + columns.map { "new_" + $0.name }
        let assignments = columns.map { "\($0.name) = v.new_\($0.name)" }.joined(separator: ", ")
        return chunkRanges(rows.count).map { range in
            {
                var query: SQLQueryString = "WITH v (\(unsafeRaw: aliases.joined(separator: ", "))) AS ("
                query += source(table, aliases: aliases, dialect: dialect, rows: rows[range], condition: condition)
                query +=
                    ") UPDATE \(unsafeRaw: table.name) SET \(unsafeRaw: assignments) FROM v WHERE \(unsafeRaw: table.name).\(unsafeRaw: key.name) = v.row_key"
                return query
            }
        }
    }

    /// Runs statements in order, writing the next one's text in a child task while the database
    /// runs the current one. A failed statement stops the run: the next statement is never run,
    /// and its child task is cancelled and waited for before the error is thrown (it only writes
    /// text, never touches the database), so nothing outlives the call. `after` is called with
    /// each statement's index once it has run.
    static func run(
        _ sql: any SQLDatabase,
        _ statements: [Statement],
        after: (Int) -> Void = { _ in }
    ) async throws {
        guard let first = statements.first else { return }
        var query = first()
        for index in statements.indices {
            guard index + 1 < statements.count else {
                try await sql.raw(query).run()
                after(index)
                return
            }
            let statement = statements[index + 1]
            async let next = statement()
            try await sql.raw(query).run()
            after(index)
            query = await next
        }
    }

    /// The rows of each statement: `rowsPerStatementMax` at most.
    static func chunkRanges(_ rowCount: Int) -> [Range<Int>] {
        stride(from: 0, to: rowCount, by: rowsPerStatementMax).map { $0..<min(rowCount, $0 + rowsPerStatementMax) }
    }
}

/// SQL literals for SQLite, by hand, for `BulkRows`. Text is always quoted with every `'`
/// doubled, which is SQLite's only escape inside a literal; text holding a NUL (which would end
/// the statement early) is written as a hex blob cast to text. So no value can change the
/// statement's meaning.
enum SQLiteLiteral {
    /// `VALUES (…), (…)`: one row of literals per row, one literal per column.
    static func values<Row>(_ rows: ArraySlice<Row>, columns: [BulkColumn<Row>]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows.count * columns.count * 24 + 8)
        bytes.append(contentsOf: "VALUES ".utf8)
        for (index, row) in rows.enumerated() {
            bytes.append(contentsOf: index == 0 ? "(".utf8 : ", (".utf8)
            for (position, column) in columns.enumerated() {
                if position > 0 { bytes.append(contentsOf: ", ".utf8) }
                append(column.value(row), to: &bytes)
            }
            bytes.append(UInt8(ascii: ")"))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One literal.
    static func append(_ cell: SQLCell, to bytes: inout [UInt8]) {
        switch cell {
        case .null:
            bytes.append(contentsOf: "NULL".utf8)
        case .int(let value):
            bytes.append(contentsOf: String(value).utf8)
        case .text(let value):
            let start = bytes.count
            bytes.append(UInt8(ascii: "'"))
            var sawNUL = false
            for byte in value.utf8 {
                if byte == 0 {
                    sawNUL = true
                    break
                }
                if byte == UInt8(ascii: "'") { bytes.append(byte) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "'"))
            guard sawNUL else { return }
            bytes.removeSubrange(start...)
            let hex = Array("0123456789ABCDEF".utf8)
            bytes.append(contentsOf: "CAST(X'".utf8)
            for byte in value.utf8 {
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
            bytes.append(contentsOf: "' AS TEXT)".utf8)
        }
    }
}

extension SQLRow {
    /// Decodes a non-null column or says which one is unreadable.
    func value<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        do {
            return try decode(column: column, as: T.self)
        } catch {
            throw StoreError.unreadableRow("column \(column): \(error)")
        }
    }

    /// Decodes a nullable column.
    func optional<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        if try decodeNil(column: column) { return nil }
        return try value(column, as: T.self)
    }

    /// Decodes a stored instant (milliseconds since 1970).
    func date(_ column: String) throws -> Date { Date(milliseconds: try value(column, as: Int64.self)) }

    /// Decodes a nullable stored instant.
    func optionalDate(_ column: String) throws -> Date? {
        try optional(column, as: Int64.self).map(Date.init(milliseconds:))
    }
}

extension Array where Element == String {
    /// Most values one `IN (…)` list holds.
    static let inListMax = 1000

    /// The values in `IN (…)`-sized pieces, so a batch of any size makes statements of a bounded size.
    var inListChunks: [[String]] {
        stride(from: 0, to: count, by: Self.inListMax).map { Array(self[$0..<Swift.min(count, $0 + Self.inListMax)]) }
    }

    /// `column` is one of these values: `column IN ('a','b')` with literals on SQLite (see
    /// `SQLiteLiteral`); on PostgreSQL `column = ANY($1)` with one text-array bind, so the
    /// statement is the same text for any number of values, its plan does not grow with them, and
    /// an index on `column` (after any equal columns before it) is searched for each value.
    func sqlMembership(_ column: String, for sql: any SQLDatabase) -> SQLQueryString {
        guard sql.storeDialect == .sqlite else { return "\(unsafeRaw: column) = ANY(CAST(\(bind: self) AS text[]))" }
        var bytes: [UInt8] = []
        for (index, value) in enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            SQLiteLiteral.append(.text(value), to: &bytes)
        }
        return "\(unsafeRaw: column) IN (\(unsafeRaw: String(decoding: bytes, as: UTF8.self)))"
    }
}

/// A statement run again and again with the same text and other binds (the ledger's batch
/// statements and reads, whose rows travel as arrays, so the text does not grow with them): on
/// PostgreSQL it is parsed once per connection and kept as a named prepared statement, so each
/// later run is only bound and executed (the first run on a connection costs a round trip more);
/// PostgreSQL then plans it for each run's values until a generic plan costs less than their
/// average, planning included, and re-plans after ANALYZE or a change to its tables
/// (`plan_cache_mode = auto`). Which texts get a name, on which connections, and what their binds
/// must keep: `ReusedStatements`. A statement with a bind only PostgresKit encodes runs unnamed.
/// SQLite runs it as written.
struct ReusedStatement: SQLExpression {
    let statement: SQLQueryString

    init(_ statement: SQLQueryString) { self.statement = statement }

    func serialize(to serializer: inout SQLSerializer) { statement.serialize(to: &serializer) }
}
