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
    /// The status of one of the campaign's (`campaign`, a column of the outer query) messages
    /// still in flight, or NULL when none is: a subquery that reads only those messages'
    /// entries of the `(campaign_id, status)` index, whatever the planner's statistics say.
    ///
    /// With `status IN (…)` PostgreSQL 15 cannot keep the index's order, so under `ORDER BY …
    /// LIMIT 1` (there so that statistics still describing a just-queued send, "most messages
    /// queued", do not make it scan the table, 12 ms a call) it read the campaign's entries in
    /// order and filtered them: every delivered message's entry (they sort before "queued") on
    /// every settlement batch, ~3 ms a call at 20,000 texts and growing with the campaign. As
    /// one range of the index (`MessageStore.statuses(_:in:)`) the order is kept and the read
    /// starts at the first unfinished entry.
    static func firstUnfinished(ofCampaign campaign: String) -> SQLQueryString {
        """
        (SELECT m.status FROM messages m WHERE m.campaign_id = \(unsafeRaw: campaign) AND \(unsafeRaw: unfinishedStatuses)
         ORDER BY m.campaign_id, m.status LIMIT 1)
        """
    }

    /// `m.status` is one of a message still in flight, as a range (written once).
    static let unfinishedStatuses = statuses(MessageStatus.allCases.filter { !$0.isFinal }, in: "m.status")

    /// `column IN (statuses)` written as the range from the first status to the last (in the
    /// text order the index keeps) minus the statuses between them that are not wanted, so that
    /// an index on `(…, status)` reads it as one range in order.
    static func statuses(_ statuses: [MessageStatus], in column: String) -> String {
        let wanted = Set(statuses.map(\.rawValue))
        guard let low = wanted.min(), let high = wanted.max() else { return "FALSE" }
        var text = "\(column) BETWEEN '\(low)' AND '\(high)'"
        for other in MessageStatus.allCases.map(\.rawValue).sorted() where other > low && other < high {
            if !wanted.contains(other) { text += " AND \(column) <> '\(other)'" }
        }
        return text
    }

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
            completed += try await sql.raw(
                """
                UPDATE campaigns SET completed_at = \(bind: instant.milliseconds)
                WHERE \(chunk.sqlMembership("id", for: sql)) AND completed_at IS NULL AND canceled_at IS NULL
                  AND \(MessageStore.firstUnfinished(ofCampaign: "campaigns.id")) IS NULL
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
