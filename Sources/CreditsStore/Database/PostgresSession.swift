import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// One pooled PostgreSQL connection as SQLKit sees it — every statement goes through SQLKit as
/// before — that also holds the connection itself, for the ledger's hot reads, which decode
/// their rows by position with PostgresNIO. SQLKit's rows look every column up by name and
/// decode it through `Decodable`: a tenth of the ledger's CPU when posting holds.
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
        try await sql.execute(sql: query, onRow)
    }
}

extension PostgresSession {
    /// Runs a query written for SQLKit (serialised as SQLKit would, binds and all) on the
    /// connection itself, and returns PostgresNIO's rows, to be decoded by position.
    func rows(_ query: SQLQueryString) async throws -> PostgresRowSequence {
        let (text, values) = sql.serialize(query)
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            guard let value = value as? any PostgresThrowingDynamicTypeEncodable else {
                preconditionFailure("a bind PostgresNIO cannot encode: \(type(of: value))")
            }
            try binds.append(value)
        }
        return try await connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger)
    }
}
