import CreditsCore
import Foundation
import SQLKit

extension MessageStore {
    /// The progress of these campaigns: one query for a whole dispatch round (an index look-up
    /// per campaign, never one per message).
    public func progress(ofCampaigns ids: Set<String>) async throws -> [DispatchProgress] {
        guard !ids.isEmpty else { return [] }
        return try await database.read { sql in
            var query: SQLQueryString = """
                SELECT c.id, c.request_id, CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = c.id
                    AND m.status IN ('queued', 'sending')) THEN 1 ELSE 0 END AS dispatching
                FROM campaigns c WHERE c.id IN (
                """
            for (index, id) in ids.sorted().enumerated() { query += index == 0 ? "\(bind: id)" : ", \(bind: id)" }
            query += ")"
            return try await sql.raw(query).all().map { row in
                DispatchProgress(
                    id: try row.value("id"),
                    requestID: try row.optional("request_id"),
                    dispatching: try row.value("dispatching", as: Int.self) == 1
                )
            }
        }
    }
}
