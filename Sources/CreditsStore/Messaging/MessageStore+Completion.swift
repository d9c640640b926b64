import CreditsCore
import Foundation
import SQLKit

/// A campaign whose last message just became final.
public struct CompletedCampaign: Sendable {
    public var id: String
    public var organizationID: OrganizationID
    /// Its messages by final status.
    public var counts: [String: Int]
}

extension MessageStore {
    /// Marks completed the campaigns among `ids` that have no message left in flight and were not
    /// marked before, in the caller's unit of work, and returns them: each campaign completes
    /// once. The organisations are locked first (PostgreSQL), so two transactions finishing a
    /// campaign's last two messages see each other's work.
    public static func completeCampaigns(_ ids: Set<String>, at instant: Date, in work: UnitOfWork) async throws
        -> [CompletedCampaign]
    {
        guard !ids.isEmpty else { return [] }
        let sql = work.sql
        var completed: [(id: String, organization: String)] = []
        for chunk in ids.sorted().inListChunks {
            if work.dialect == .postgres {
                let organizations = try await sql.raw(
                    "SELECT DISTINCT organization_id FROM campaigns WHERE \(chunk.sqlMembership("id", for: sql)) AND completed_at IS NULL"
                ).all().map { try $0.value("organization_id", as: String.self) }.sorted()
                for organization in organizations { try await work.database.lockOrganization(organization, on: sql) }
            }
            // "No message of it still unfinished" as a subquery ordered like the (campaign_id,
            // status) index with LIMIT 1, not NOT EXISTS: during a big send PostgreSQL's statistics
            // still say most messages are queued, and it answered NOT EXISTS by scanning every
            // message (early exit expected, never found once they were final) — 12 ms a call, 9.5 s
            // of statement time while settling 100,000. Ordered, only the index is cheap.
            completed += try await sql.raw(
                """
                UPDATE campaigns SET completed_at = \(bind: instant.milliseconds)
                WHERE \(chunk.sqlMembership("id", for: sql)) AND completed_at IS NULL AND canceled_at IS NULL
                  AND (SELECT m.status FROM messages m WHERE m.campaign_id = campaigns.id
                       AND m.status IN ('queued', 'sending', 'sent') ORDER BY m.campaign_id, m.status LIMIT 1) IS NULL
                RETURNING id, organization_id
                """
            ).all().map { (try $0.value("id"), try $0.value("organization_id")) }
        }
        guard !completed.isEmpty else { return [] }
        var counts: [String: [String: Int]] = [:]
        for row in try await sql.raw(
            """
            SELECT campaign_id, status, COUNT(*) AS n FROM messages
            WHERE \(completed.map(\.id).sqlMembership("campaign_id", for: sql)) GROUP BY campaign_id, status
            """
        ).all() {
            let campaign: String = try row.value("campaign_id")
            counts[campaign, default: [:]][try row.value("status", as: String.self)] = try row.value("n", as: Int.self)
        }
        return completed.map {
            CompletedCampaign(
                id: $0.id,
                organizationID: OrganizationID($0.organization),
                counts: counts[$0.id] ?? [:]
            )
        }
    }
}

extension MessageStore {
    /// Messages by id, read in the caller's unit of work (already locked by it).
    public static func messages(_ ids: [String], in work: UnitOfWork) async throws -> [Message] {
        var found: [Message] = []
        for chunk in ids.inListChunks {
            found += try await work.sql.raw(
                "SELECT \(unsafeRaw: MessageStore.columns) FROM messages WHERE \(chunk.sqlMembership("id", for: work.sql))"
            ).all().map(MessageStore.message)
        }
        return found
    }
}
