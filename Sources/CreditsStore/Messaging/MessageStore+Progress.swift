import CreditsCore
import Foundation
import SQLKit

extension MessageStore {
    /// `m.status` is one of a message not yet handed to the provider, as a range (written once).
    static let dispatchingStatuses = statuses([.queued, .sending], in: "m.status")

    /// The progress of these campaigns: one query for a whole dispatch round (an index look-up
    /// per campaign, never one per message).
    public func progress(ofCampaigns ids: Set<String>) async throws -> [DispatchProgress] {
        try await DispatchProgress.read(
            """
            SELECT c.id, c.request_id, CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = c.id
                AND \(MessageStore.dispatchingStatuses)) THEN 1 ELSE 0 END AS dispatching
            FROM campaigns c WHERE
            """,
            idColumn: "c.id",
            ids: ids,
            from: database
        )
    }
}
