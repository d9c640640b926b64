import Foundation
import Logging
import PostgresKit
import PostgresNIO

/// The scale-out store: a pooled PostgreSQL client shared by everything in the process; several
/// processes may use one database.
public final class PostgresStore: Database {
    public let dialect = StoreDialect.postgres
    let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// The named prepared statements of this store's connections.
    let reused = ReusedStatements()

    private init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runner = runner
        self.logger = logger
    }

    /// Connects a pool and checks the server answers.
    public static func open(_ location: PostgresLocation, logger: Logger, connectionsMax: Int = 16) async throws
        -> PostgresStore
    {
        let tls: PostgresClient.Configuration.TLS
        switch location.sslMode {
        case "disable": tls = .disable
        case "require": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: tls
        )
        configuration.options.maximumConnections = connectionsMax
        configuration.options.connectTimeout = .seconds(connectSecondsMax)
        try await probe(location, logger: logger)
        // Our reads are point lookups by key lists (`IN (…)` of a few hundred ids or phones) on
        // indexed, cached tables. With the default random_page_cost of 4 (tuned for spinning disks)
        // the planner prefers scanning an organisation's whole table over a few hundred index
        // probes, which is 5–10 times slower and grows with the table; 1.1 is the usual setting
        // for SSDs and memory-resident data.
        var parameters = [("random_page_cost", "1.1")]
        if let searchPath = location.searchPath { parameters.append(("search_path", searchPath)) }
        configuration.options.additionalStartupParameters = parameters
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        // The pool's run loop lives as long as this store; `close()` cancels it. (In the server the
        // store is closed by the lifecycle on shutdown.)
        let runner = Task { await client.run() }
        // Let the run loop start before the first lease, so the pool does not warn about it.
        for _ in 0..<4 { await Task.yield() }
        let store = PostgresStore(client: client, runner: runner, logger: logger)
        do {
            try await store.read { try await $0.raw("SELECT 1").run() }
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// How long a connection attempt may take before it is given up.
    public static let connectSecondsMax: Int64 = 5

    /// One connection, then closed, before the pool is made: the pool would retry an unreachable
    /// server until its circuit breaker trips (over a minute, silently) and then fail with an error
    /// naming neither host nor port. Throws `StoreError.unreachable` ("cannot connect to
    /// 127.0.0.1:5432: connection refused") within `connectSecondsMax`.
    static func probe(_ location: PostgresLocation, logger: Logger) async throws {
        let tls: PostgresConnection.Configuration.TLS
        switch location.sslMode {
        case "disable": tls = .disable
        case "require": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(connectSecondsMax)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch {
            throw StoreError.unreachable("cannot connect to \(location.host):\(location.port): \(reason(error))")
        }
        try? await connection.close()
    }

    /// Why a connection failed, in a few words: "connection refused", "no answer within 5 s",
    /// "host not found", or the server's own message ("password authentication failed for user …").
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if error.code == .sslUnsupported { return "the server does not offer TLS (sslmode=require)" }
            if let underlying = error.underlying { return reason(underlying) }
            if error.code == .serverClosedConnection { return "the connection was closed before the server answered" }
            return "\(error.code)"
        }
        if let error = error as? NIOConnectionError {
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                return "host not found"
            }
            if let first = error.connectionErrors.first { return reason(first.error) }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return "no answer within \(connectSecondsMax) s"
        }
        if let error = error as? IOError {
            let text = String(cString: strerror(error.errnoCode))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
        return String(describing: error)
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await PostgresStore.answeringBusy {
            try await client.withConnection { connection in
                try await body(PostgresSession(connection, reused: reused))
            }
        }
    }

    /// Runs `work`, turning PostgreSQL's lock and serialisation conflicts (40001, 40P01, 55P03)
    /// into `StoreError.busy`: the transaction rolled back and may simply be tried again.
    static func answeringBusy<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as PSQLError {
            guard let state = error.serverInfo?[.sqlState], ["40001", "40P01", "55P03"].contains(state) else {
                throw error
            }
            throw StoreError.busy
        }
    }

    /// BEGIN … COMMIT on one pooled connection; the body's own error is rethrown as it is (not
    /// wrapped), after ROLLBACK.
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await PostgresStore.answeringBusy { try await run(body) }
    }

    /// Outside BEGIN, as `read`: PostgreSQL commits each statement on its own.
    public func autocommit<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await read(body)
    }

    func run<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let sql = PostgresSession(connection, reused: reused)
            try await sql.raw("BEGIN").run()
            do {
                let result = try await body(sql)
                try await sql.raw("COMMIT").run()
                return result
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }
}
