import CreditsCore
import CreditsStore
import Foundation
import Logging

/// The stores every storage test runs on: SQLite always, PostgreSQL when
/// `TEXTCREDITS_TEST_POSTGRES_URL` is set (CI always sets it).
public enum TestDatabase: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// The stores available on this machine. Without PostgreSQL it says so once in the test
    /// output, with how to add it, rather than leaving half of the suite out without a word.
    public static let available: [TestDatabase] = {
        guard postgresURL != nil else {
            print(
                """
                ◇ PostgreSQL tests skipped: TEXTCREDITS_TEST_POSTGRES_URL is not set, so every storage test runs on \
                SQLite only. To run them on PostgreSQL too, start one and export \
                TEXTCREDITS_TEST_POSTGRES_URL=postgres://USER:PASSWORD@127.0.0.1:PORT/DATABASE \
                (README: "Running the tests").
                """
            )
            return [.sqlite]
        }
        return [.sqlite, .postgres]
    }()

    static var postgresURL: String? {
        let value = ProcessInfo.processInfo.environment["TEXTCREDITS_TEST_POSTGRES_URL"]
        return value?.isEmpty == false ? value : nil
    }

    /// A fresh, migrated, private database: a new SQLite file, or a new PostgreSQL schema.
    public func makeURL() async throws -> DatabaseURL {
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "textcredits-test-\(UUID().uuidString).sqlite"
            ).path
            return .sqlite(path: path)
        case .postgres:
            guard let base = TestDatabase.postgresURL else {
                preconditionFailure("PostgreSQL tests need TEXTCREDITS_TEST_POSTGRES_URL")
            }
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let admin = try await DatabaseFactory.open(try DatabaseURL(parsing: base), logger: TestDatabase.quietLogger)
            try await admin.transaction { try await $0.raw("CREATE SCHEMA \(unsafeRaw: schema)").run() }
            await admin.close()
            let separator = base.contains("?") ? "&" : "?"
            return try DatabaseURL(parsing: base + separator + "search_path=" + schema)
        }
    }

    /// Opens a fresh migrated database and runs `body` with it; closes it afterwards.
    public func with<T>(_ body: (any Database, DatabaseURL) async throws -> T) async throws -> T {
        let url = try await makeURL()
        let database = try await DatabaseFactory.open(url, logger: TestDatabase.quietLogger)
        try await Migrator.migrate(database)
        do {
            let result = try await body(database, url)
            await database.close()
            await cleanUp(url)
            return result
        } catch {
            await database.close()
            await cleanUp(url)
            throw error
        }
    }

    /// Removes what `makeURL()` made: the SQLite file and its journals, or the PostgreSQL schema
    /// (a whole suite leaves about seven thousand schemas, 1.7 GB, when they are kept). A schema
    /// still locked by a server a test left running is kept rather than waited for.
    public func cleanUp(_ url: DatabaseURL) async {
        switch url {
        case .sqlite(let path):
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        case .postgres(let location):
            guard let schema = location.searchPath, schema.hasPrefix("t_"),
                schema.utf8.allSatisfy({
                    $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0)
                }),
                let base = TestDatabase.postgresURL,
                let admin = try? await DatabaseFactory.open(
                    try DatabaseURL(parsing: base),
                    logger: TestDatabase.quietLogger
                )
            else { return }
            try? await admin.transaction { sql in
                try await sql.raw("SET LOCAL lock_timeout = '5s'").run()
                try await sql.raw("DROP SCHEMA IF EXISTS \(unsafeRaw: schema) CASCADE").run()
            }
            await admin.close()
        }
    }

    /// Store logs stay quiet in tests.
    public static let quietLogger: Logger = {
        var logger = Logger(label: "textcredits.test")
        logger.logLevel = .error
        return logger
    }()
}

extension DatabaseURL {
    /// The URL as the command line takes it.
    public var commandLineValue: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let location):
            var text = "postgres://\(location.user)"
            if let password = location.password { text += ":\(password)" }
            text += "@\(location.host):\(location.port)/\(location.database)?sslmode=\(location.sslMode)"
            if let searchPath = location.searchPath { text += "&search_path=\(searchPath)" }
            return text
        }
    }
}
