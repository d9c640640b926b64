import CreditsCore
import Foundation
import SQLKit

/// The Simulator's durable record of what it accepted (one row per message reference).
public struct SimulatorStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    static func row(_ row: any SQLRow) throws -> SimulatedMessage {
        var message = SimulatedMessage(
            reference: try row.value("reference"),
            providerID: try row.value("provider_id"),
            from: try row.value("from_number"),
            to: try row.value("to_number"),
            body: try row.value("body"),
            outcome: MessageStatus(rawValue: try row.value("outcome")) ?? .delivered,
            errorCode: try row.optional("error_code"),
            segments: try row.value("segments"),
            statusCallback: try row.value("status_callback"),
            attempts: try row.value("attempts")
        )
        message.mediaURLs = (try row.optional("media_urls", as: String.self) ?? "").split(separator: " ").map(
            String.init
        )
        return message
    }

    static let columns =
        "reference, provider_id, from_number, to_number, body, outcome, error_code, segments, status_callback, attempts, media_urls"

    /// Records messages, or counts another attempt of those already recorded, and returns the
    /// stored rows in order — one transaction for the whole batch.
    public func accept(_ rows: [SimulatedMessage], at instant: Date) async throws -> [SimulatedMessage] {
        guard !rows.isEmpty else { return [] }
        var unique: [String: SimulatedMessage] = [:]
        for row in rows where unique[row.reference] == nil { unique[row.reference] = row }
        let fresh = Array(unique.values)
        return try await database.transaction { sql in
            let table = BulkTable<SimulatedMessage>(
                name: "simulator_messages",
                columns: [
                    .text("reference") { $0.reference }, .text("provider_id") { $0.providerID },
                    .text("from_number") { $0.from },
                    .text("to_number") { $0.to }, .text("body") { $0.body }, .text("outcome") { $0.outcome.rawValue },
                    .text("error_code") { $0.errorCode },
                    .integer("segments") { $0.segments }, .text("status_callback") { $0.statusCallback },
                    .integer("attempts") { _ in 1 },
                    .text("media_urls") { $0.mediaURLs.isEmpty ? nil : $0.mediaURLs.joined(separator: " ") },
                    .bigint("accepted_at") { _ in instant.milliseconds },
                ]
            )
            try await BulkRows.insert(
                sql,
                into: table,
                rows: fresh,
                suffix: "ON CONFLICT (reference) DO UPDATE SET attempts = simulator_messages.attempts + 1"
            )
            var stored: [String: SimulatedMessage] = [:]
            let references = fresh.map(\.reference)
            for chunk in references.inListChunks {
                for row in try await sql.raw(
                    """
                    SELECT \(unsafeRaw: SimulatorStore.columns) FROM simulator_messages WHERE \(chunk.sqlMembership("reference", for: sql))
                    """
                ).all() {
                    let decoded = try SimulatorStore.row(row)
                    stored[decoded.reference] = decoded
                }
            }
            return try rows.map { row in
                guard let found = stored[row.reference] else {
                    throw StoreError.notFound("simulator message \(row.reference)")
                }
                return found
            }
        }
    }

    /// Notes that callbacks reached the server.
    public func callbacksDelivered(providerIDs: [String], at instant: Date) async throws {
        guard !providerIDs.isEmpty else { return }
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE simulator_messages SET callback_delivered_at = \(bind: instant.milliseconds)
                WHERE \(providerIDs.sqlMembership("provider_id", for: sql)) AND callback_delivered_at IS NULL
                """
            ).run()
        }
    }

    public func pending(limit: Int) async throws -> [SimulatedMessage] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: SimulatorStore.columns) FROM simulator_messages WHERE callback_delivered_at IS NULL
                ORDER BY accepted_at LIMIT \(bind: limit)
                """
            ).all().map(SimulatorStore.row)
        }
    }

    /// Every recorded message (tests and the crash check).
    public func all() async throws -> [SimulatedMessage] {
        try await database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: SimulatorStore.columns) FROM simulator_messages ORDER BY reference")
                .all().map(SimulatorStore.row)
        }
    }
}
