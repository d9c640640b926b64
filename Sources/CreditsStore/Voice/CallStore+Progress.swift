import CreditsCore
import Foundation
import SQLKit

extension CallStore {
    /// The progress of these voice broadcasts: one query for a whole dispatch round (an index
    /// look-up per broadcast, never one per call). A call the provider took stays `dialing` with
    /// its sid until it is answered; only one without a sid still waits for dispatch.
    public func progress(ofBroadcasts ids: Set<String>) async throws -> [DispatchProgress] {
        try await DispatchProgress.read(
            """
            SELECT b.id, b.request_id, CASE WHEN EXISTS (SELECT 1 FROM calls c WHERE c.broadcast_id = b.id
                AND (c.status = 'queued' OR (c.status = 'dialing' AND c.provider_id IS NULL))) THEN 1 ELSE 0 END AS dispatching
            FROM voice_broadcasts b WHERE
            """,
            idColumn: "b.id",
            ids: ids,
            from: database
        )
    }
}
