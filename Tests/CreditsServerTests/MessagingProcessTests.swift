import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import TestSupport
import Testing

/// Real `textcredits serve` processes: a crash in the middle of a campaign, and two servers
/// sharing one PostgreSQL database.
@Suite(.serialized) struct MessagingProcessTests {
    struct Totals: Decodable {
        let messages: Int
        let final: Int
        let pending: Int
        let simulated: Int
        let attempts: Int
    }

    static func totals(_ database: any Database) async throws -> Totals {
        try await database.read { sql in
            try #require(
                try await sql.raw(
                    """
                    SELECT (SELECT COUNT(*) FROM messages WHERE kind = 'campaign') AS messages,
                           (SELECT COUNT(*) FROM messages WHERE kind = 'campaign' AND status IN ('delivered', 'undelivered', 'failed')) AS final,
                           (SELECT COUNT(*) FROM ledger_holds WHERE status = 'pending') AS pending,
                           (SELECT COUNT(*) FROM simulator_messages) AS simulated,
                           CAST(COALESCE((SELECT SUM(attempts) FROM simulator_messages), 0) AS BIGINT) AS attempts
                    """
                ).first(decoding: Totals.self)
            )
        }
    }

    /// An organisation with credits and `count` opted-in contacts in "families", made through a
    /// running server; returns its key.
    static func prepare(_ url: DatabaseURL, server base: String, contacts count: Int) async throws -> String {
        let created = try await CommandLineTool.run([
            "orgs", "create", "--name", "Crash Academy", "--country", "US", "--timezone", "America/Chicago",
            "--json", "--database", url.commandLineValue,
        ])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(created.standardOutput.utf8)) as? [String: Any],
            "\(created.standardError)"
        )
        let key = try #require(object["api_key"] as? String)
        let organization = try #require(object["organization_id"] as? String)
        let adjusted = try await CommandLineTool.run([
            "credits", "adjust", "--org", organization, "--credits", "50000", "--reason", "test",
            "--database", url.commandLineValue,
        ])
        #expect(adjusted.status == 0, "\(adjusted.standardError)")
        let rows = (0..<count).map { index -> [String: Any] in
            // +1 415 2xx 2xxx: never ending in 0001 or 0002, so every message is delivered.
            [
                "name": "Parent \(index)", "phone": "+1415\(200 + index / 1000)\(2000 + index % 1000)",
                "groups": ["families"],
            ]
        }
        let imported = try await HTTP.send(
            "POST",
            "\(base)/v1/contacts/import",
            key: key,
            json: try jsonText(["contacts": rows, "consent": "opted_in"])
        )
        // A 10,000-row import is accepted at once (202) and added by the server's import job.
        #expect(imported.status == 202, "\(imported.body.prefix(300))")
        let id =
            (try JSONSerialization.jsonObject(with: Data(imported.body.utf8)) as? [String: Any])?["id"] as? String ?? ""
        let deadline = Date().addingTimeInterval(120)
        var status = ""
        while Date() < deadline {
            let job = try await HTTP.send("GET", "\(base)/v1/contacts/imports/\(id)", key: key)
            status =
                (try JSONSerialization.jsonObject(with: Data(job.body.utf8)) as? [String: Any])?["status"] as? String
                ?? ""
            if status == "completed" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == "completed", "the import finished")
        return key
    }

    @Test(arguments: TestDatabase.available)
    func aServerKilledDuringATenThousandRecipientCampaignResumesAndSendsEachMessageOnce(_ store: TestDatabase)
        async throws
    {
        try await store.with { database, url in
            let port = HTTP.freePort()
            let arguments = [
                "serve", "--database", url.commandLineValue, "--simulator-delay", "0.2", "--log-level", "error",
            ]
            let first = try RunningTool(arguments + ["--port", "\(port)"])
            let base = "http://127.0.0.1:\(port)"
            #expect(await HTTP.waitUntilUp("\(base)/health"))
            let key = try await MessagingProcessTests.prepare(url, server: base, contacts: 10_000)
            let sent = try await HTTP.send(
                "POST",
                "\(base)/v1/messages",
                key: key,
                json: #"{"groups": ["families"], "body": "Storm closure: no classes today."}"#
            )
            #expect(sent.status == 201, "\(sent.body.prefix(300))")

            // Kill it once a good part has gone out but before the end.
            var killedAt = 0
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                let totals = try await MessagingProcessTests.totals(database)
                if totals.simulated >= 2000 {
                    killedAt = totals.simulated
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let killed = await first.stop(signal: SIGKILL)
            #expect(killed?.reason == .uncaughtSignal)
            #expect(killedAt >= 2000 && killedAt < 10_000, "killed in the middle (at \(killedAt))")

            // The server comes back on its own address (callbacks already promised go there).
            let second = try RunningTool(arguments + ["--port", "\(port)"])
            #expect(await HTTP.waitUntilUp("\(base)/health"))
            var totals = try await MessagingProcessTests.totals(database)
            let finish = Date().addingTimeInterval(300)
            while Date() < finish, !(totals.final == 10_000 && totals.pending == 0) {
                try await Task.sleep(for: .milliseconds(250))
                totals = try await MessagingProcessTests.totals(database)
            }
            _ = await second.stop()

            #expect(totals.messages == 10_000)
            #expect(totals.final == 10_000, "every message reached a final status")
            #expect(totals.pending == 0, "every hold resolved")
            #expect(totals.simulated == 10_000, "each message reached the carrier exactly once")
            #expect(
                totals.attempts - totals.simulated <= 256,
                "only messages in flight at the crash were handed over again (\(totals.attempts - totals.simulated))"
            )
            let unmatched = try await database.read { sql in
                try await sql.raw(
                    """
                    SELECT COUNT(*) AS n FROM messages m LEFT JOIN simulator_messages s ON s.reference = m.id
                    WHERE m.kind = 'campaign' AND (s.reference IS NULL OR s.provider_id <> m.provider_id)
                    """
                ).first(decoding: Count.self)
            }
            #expect(unmatched?.n == 0)
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }

    @Test(arguments: TestDatabase.available.filter { $0 == .postgres })
    func twoServersOnOnePostgreSQLNeverDispatchAMessageTwice(_ store: TestDatabase) async throws {
        try await store.with { database, url in
            let ports = [HTTP.freePort(), HTTP.freePort()]
            let servers = try ports.map {
                try RunningTool([
                    "serve", "--database", url.commandLineValue, "--port", "\($0)", "--simulator-delay", "0",
                    "--log-level", "error",
                ])
            }
            for (port, server) in zip(ports, servers)
            where !(await HTTP.waitUntilUp("http://127.0.0.1:\(port)/health", seconds: 90)) {
                let stopped = await server.stop()
                Issue.record(
                    "the server on \(port) never answered (exit \(String(describing: stopped))): \(server.printed())"
                )
                for other in servers { _ = await other.stop() }
                return
            }
            let key = try await MessagingProcessTests.prepare(
                url,
                server: "http://127.0.0.1:\(ports[0])",
                contacts: 3000
            )
            let sent = try await HTTP.send(
                "POST",
                "http://127.0.0.1:\(ports[0])/v1/messages",
                key: key,
                json: #"{"groups": ["families"], "body": "Both servers"}"#
            )
            #expect(sent.status == 201)
            var totals = try await MessagingProcessTests.totals(database)
            let finish = Date().addingTimeInterval(180)
            while Date() < finish, !(totals.final == 3000 && totals.pending == 0) {
                try await Task.sleep(for: .milliseconds(200))
                totals = try await MessagingProcessTests.totals(database)
            }
            for server in servers { _ = await server.stop() }
            #expect(totals.final == 3000)
            #expect(totals.simulated == 3000)
            #expect(totals.attempts == 3000, "no message was handed to the provider twice")
            let byServer = try await database.read { sql in
                try await sql.raw("SELECT status_callback FROM simulator_messages").all().map {
                    try $0.decode(column: "status_callback", as: String.self)
                }
            }
            for port in ports {
                #expect(byServer.contains { $0.contains(":\(port)/") }, "server on \(port) dispatched a share")
            }
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }
}

struct Count: Decodable { let n: Int }
