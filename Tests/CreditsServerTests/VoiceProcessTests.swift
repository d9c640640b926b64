import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import TestSupport
import Testing

/// A real `textcredits serve` process killed in the middle of a voice broadcast — in the serialized
/// process suite, so it never competes with the texts' crash test for the two cores.
extension MessagingProcessTests {
    struct VoiceTotals: Decodable {
        let calls: Int
        let settled: Int
        let pending: Int
        let simulated: Int
    }

    static func voiceTotals(_ database: any Database) async throws -> VoiceTotals {
        try await database.read { sql in
            try #require(
                try await sql.raw(
                    """
                    SELECT (SELECT COUNT(*) FROM calls) AS calls,
                           (SELECT COUNT(*) FROM calls WHERE charged IS NOT NULL) AS settled,
                           (SELECT COUNT(*) FROM ledger_holds WHERE status = 'pending') AS pending,
                           (SELECT COUNT(*) FROM simulator_calls) AS simulated
                    """
                ).first(decoding: VoiceTotals.self)
            )
        }
    }

    @Test(arguments: TestDatabase.available)
    func aServerKilledDuringABroadcastResumesAndCallsEachNumberOnce(_ store: TestDatabase) async throws {
        try await store.with { database, url in
            let port = HTTP.freePort()
            let arguments = [
                "serve", "--database", url.commandLineValue, "--simulator-delay", "0.2", "--log-level", "error",
            ]
            let first = try RunningTool(arguments + ["--port", "\(port)"])
            let base = "http://127.0.0.1:\(port)"
            #expect(await HTTP.waitUntilUp("\(base)/health", seconds: 90))
            let key = try await MessagingProcessTests.prepare(url, server: base, contacts: 2000)
            let sent = try await HTTP.send(
                "POST",
                "\(base)/v1/voice/broadcasts",
                key: key,
                json:
                    #"{"groups": ["families"], "say": {"text": "Storm closure: no classes today."}, "machine_detection": "leave_message", "override_sending_hours": true}"#
            )
            #expect(sent.status == 201, "\(sent.body.prefix(300))")

            var killedAt = 0
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                let totals = try await MessagingProcessTests.voiceTotals(database)
                if totals.simulated >= 300 {
                    killedAt = totals.simulated
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let killed = await first.stop(signal: SIGKILL)
            #expect(killed?.reason == .uncaughtSignal)
            #expect(killedAt >= 300 && killedAt < 2000, "killed in the middle (at \(killedAt))")

            // Back on its own address: the calls the Simulator had placed finish, the ones whose
            // dispatcher died are taken over when their lease runs out (2 minutes).
            let second = try RunningTool(arguments + ["--port", "\(port)"])
            #expect(await HTTP.waitUntilUp("\(base)/health", seconds: 90))
            var totals = try await MessagingProcessTests.voiceTotals(database)
            let finish = Date().addingTimeInterval(400)
            while Date() < finish, !(totals.settled == 2000 && totals.pending == 0) {
                try await Task.sleep(for: .milliseconds(250))
                totals = try await MessagingProcessTests.voiceTotals(database)
            }
            _ = await second.stop()

            #expect(totals.calls == 2000)
            #expect(totals.settled == 2000, "every call settled")
            #expect(totals.pending == 0, "every hold resolved")
            #expect(totals.simulated == 2000, "each number was called exactly once")
            let unmatched = try await database.read { sql in
                try await sql.raw(
                    """
                    SELECT COUNT(*) AS n FROM calls c LEFT JOIN simulator_calls s ON s.reference = c.id
                    WHERE s.reference IS NULL OR s.provider_id <> c.provider_id OR c.status <> 'completed'
                    """
                ).first(decoding: Count.self)
            }
            #expect(unmatched?.n == 0, "every call is the one the Simulator placed, answered")
            let charged = try await database.read { sql in
                try await sql.raw("SELECT CAST(SUM(charged) AS BIGINT) AS n FROM calls").first(decoding: Count.self)
            }
            #expect(charged?.n == 2000 * 2500, "2.5 credits a number answered, once")
            #expect(try await LedgerVerifier(database: database).verify() == [])
        }
    }
}
