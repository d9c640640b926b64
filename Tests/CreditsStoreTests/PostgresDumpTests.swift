import CreditsStore
import Foundation
import SQLKit
import TestSupport
import Testing

/// PostgreSQL is backed up with its own tools, as the README's “Backups” says: a custom-format
/// `pg_dump` restored with `pg_restore --clean --if-exists --no-owner` into a fresh database
/// passes `textcredits ledger verify` and holds the same ledger.
@Suite struct PostgresDumpTests {
    /// The folder of the newest PostgreSQL client tools installed (Debian's layout).
    static var tools: URL? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }
        return versions.sorted().reversed().map { URL(fileURLWithPath: "\(root)/\($0)/bin") }.first {
            FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("pg_restore").path)
        }
    }

    /// True when the test can run here; otherwise prints what is missing and how to provide it.
    static func runnable() async -> Bool {
        guard TestDatabase.available.contains(.postgres) else {
            print("PostgresDumpTests: skipped, TEXTCREDITS_TEST_POSTGRES_URL is not set.")
            return false
        }
        guard tools != nil else {
            print("PostgresDumpTests: skipped, no pg_dump/pg_restore under /usr/lib/postgresql/*/bin.")
            return false
        }
        let allowed = try? await TestDatabase.postgres.with { database, _ in
            try await database.read { sql in
                try await sql.raw("SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user").first()?.decode(
                    column: "rolcreatedb",
                    as: Bool.self
                )
            }
        }
        guard allowed == true else {
            print(
                "PostgresDumpTests: skipped, the test role may not create databases. Grant it as a superuser: "
                    + "runuser -u postgres -- psql -h HOST -p PORT -c 'ALTER ROLE textcredits CREATEDB'"
            )
            return false
        }
        return true
    }

    @Test(.enabled("needs PostgreSQL, its client tools and a role that may create databases") { await runnable() })
    func aCustomFormatDumpRestoredIntoAFreshDatabasePassesLedgerVerify() async throws {
        try await TestDatabase.postgres.with { database, url in
            guard case .postgres(let location) = url, let schema = location.searchPath,
                let tools = PostgresDumpTests.tools
            else { return }
            let bench = try await CommandLineTool.run([
                "bench", "ledger", "--database", url.commandLineValue, "--holds", "300", "--concurrency", "20",
            ])
            #expect(bench.status == 0, "\(bench.standardError)")
            let dump = FileManager.default.temporaryDirectory.appendingPathComponent("textcredits-\(schema).dump").path
            defer { try? FileManager.default.removeItem(atPath: dump) }
            let dumped = try await PostgresDumpTests.run(
                tools.appendingPathComponent("pg_dump"),
                ["-Fc", "-n", schema, "-f", dump, "-d", PostgresDumpTests.libpq(location)],
                password: location.password
            )
            #expect(dumped.status == 0, "\(dumped.output)")

            var fresh = location
            fresh.database = "textcredits_restore_\(schema.suffix(12))"
            let name = fresh.database
            try await database.read { sql in try await sql.raw("CREATE DATABASE \(ident: name)").run() }
            do {
                let restored = try await PostgresDumpTests.run(
                    tools.appendingPathComponent("pg_restore"),
                    ["--clean", "--if-exists", "--no-owner", "-d", PostgresDumpTests.libpq(fresh), dump],
                    password: location.password
                )
                #expect(restored.status == 0, "\(restored.output)")
                let verify = try await CommandLineTool.run([
                    "ledger", "verify", "--database", DatabaseURL.postgres(fresh).commandLineValue,
                ])
                #expect(verify.status == 0, "\(verify.standardOutput) \(verify.standardError)")
                #expect(verify.standardOutput.contains("ledger verified: all invariants hold"))
                let copy = try await DatabaseFactory.open(.postgres(fresh), logger: TestDatabase.quietLogger)
                let copied = try await PostgresDumpTests.ledger(copy)
                await copy.close()
                let original = try await PostgresDumpTests.ledger(database)
                #expect(original.entries > 0)
                #expect(copied == original)
            } catch {
                try? await PostgresDumpTests.drop(fresh.database, from: database)
                throw error
            }
            try await PostgresDumpTests.drop(fresh.database, from: database)
        }
    }

    struct Ledger: Decodable, Equatable {
        let entries: Int
        let balances: Int64
    }

    /// How many entries the ledger holds and what its balances add up to.
    static func ledger(_ database: any Database) async throws -> Ledger {
        try await database.read { sql in
            try #require(
                try await sql.raw(
                    """
                    SELECT (SELECT COUNT(*) FROM ledger_entries) AS entries,
                           CAST(COALESCE((SELECT SUM(ABS(balance)) FROM ledger_accounts), 0) AS BIGINT) AS balances
                    """
                ).first(decoding: Ledger.self)
            )
        }
    }

    static func drop(_ name: String, from database: any Database) async throws {
        try await database.read { sql in try await sql.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run()
        }
    }

    /// The location as libpq's tools take it (they reject the `search_path` parameter; the
    /// password travels in PGPASSWORD).
    static func libpq(_ location: PostgresLocation) -> String {
        "postgresql://\(location.user)@\(location.host):\(location.port)/\(location.database)?sslmode=\(location.sslMode)"
    }

    /// Runs a PostgreSQL client tool on a thread of its own and returns its status and output.
    static func run(_ tool: URL, _ arguments: [String], password: String?) async throws -> (
        status: Int32, output: String
    ) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        let process = Process()
                        process.executableURL = tool
                        process.arguments = arguments
                        var environment = ProcessInfo.processInfo.environment
                        if let password { environment["PGPASSWORD"] = password }
                        process.environment = environment
                        let output = Pipe()
                        process.standardOutput = output
                        process.standardError = output
                        try process.run()
                        let data = output.fileHandleForReading.readDataToEndOfFile()
                        process.waitUntilExit()
                        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
                    }
                )
            }
        }
    }
}
