import CreditsCore
import Foundation
import SQLKit

extension SimulatorStore {
    /// Records a call the Simulator placed, or returns the one already recorded for its
    /// reference (a retry after a crash rings nobody again); the flag says which.
    public func acceptCall(_ call: SimulatedCall, at instant: Date) async throws -> (SimulatedCall, fresh: Bool) {
        let payload = String(decoding: try JSONEncoder().encode(call), as: UTF8.self)
        return try await database.transaction { sql in
            let inserted = try await sql.raw(
                """
                INSERT INTO simulator_calls (reference, provider_id, payload, callback_delivered, created_at)
                VALUES (\(bind: call.reference), \(bind: call.providerID), \(bind: payload), 0, \(bind: instant.milliseconds))
                ON CONFLICT (reference) DO NOTHING RETURNING reference
                """
            ).all()
            if !inserted.isEmpty { return (call, true) }
            guard
                let row = try await sql.raw(
                    "SELECT payload FROM simulator_calls WHERE reference = \(bind: call.reference)"
                ).first()
            else { throw StoreError.notFound("simulator call \(call.reference)") }
            let stored = try JSONDecoder().decode(
                SimulatedCall.self,
                from: Data((try row.value("payload", as: String.self)).utf8)
            )
            return (stored, false)
        }
    }

    /// Notes that a call's last callback reached the server.
    public func callFinished(providerID: String) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                "UPDATE simulator_calls SET callback_delivered = 1 WHERE provider_id = \(bind: providerID)"
            ).run()
        }
    }

    /// Calls whose flow has not finished (resumed after a restart).
    public func pendingCalls(limit: Int) async throws -> [SimulatedCall] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT payload FROM simulator_calls WHERE callback_delivered = 0 ORDER BY created_at LIMIT \(bind: limit)
                """
            ).all().map {
                try JSONDecoder().decode(
                    SimulatedCall.self,
                    from: Data((try $0.value("payload", as: String.self)).utf8)
                )
            }
        }
    }

    /// How many calls the Simulator placed (tests and the crash check: nobody rung twice).
    public func callCount() async throws -> Int {
        try await database.read { sql in
            Int(
                try await sql.raw("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM simulator_calls").first()?.value(
                    "n",
                    as: Int64.self
                ) ?? 0
            )
        }
    }
}
