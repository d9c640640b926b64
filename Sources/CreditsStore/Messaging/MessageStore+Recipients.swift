import CreditsCore
import Foundation
import SQLKit

/// One recipient of a campaign: its message (with what it was charged) and the contact's name.
public struct CampaignRecipient: Sendable {
    public var message: Message
    /// The contact the number belongs to, if it is (still) one.
    public var contactName: String?
}

extension MessageStore {
    /// A campaign's messages, each with its contact's name, in the order they were queued: after
    /// `afterID`, or — for a page following it live — the ones named by `ids`. Only the
    /// organisation's own campaign is read.
    public func recipients(
        ofCampaign campaignID: String,
        organization: OrganizationID,
        status: MessageStatus? = nil,
        afterID: String? = nil,
        ids: [String]? = nil,
        limit: Int
    ) async throws -> [CampaignRecipient] {
        try await database.read { sql in
            var query = SQLQueryString(
                stringLiteral: MessageStore.selectWithCharge.replacingOccurrences(
                    of: " FROM messages m",
                    with: ", c.name AS contact_name FROM messages m"
                )
            )
            query += """
                 LEFT JOIN contacts c ON c.organization_id = m.organization_id AND c.phone = m.to_number AND c.deleted_at IS NULL
                 WHERE m.campaign_id = \(bind: campaignID) AND m.organization_id = \(bind: organization.rawValue)
                """
            if let status { query += " AND m.status = \(bind: status.rawValue)" }
            if let ids { query += " AND \((ids.isEmpty ? [""] : ids).sqlMembership("m.id", for: sql))" }
            if let afterID { query += " AND m.id > \(bind: afterID)" }
            query += " ORDER BY m.id LIMIT \(bind: limit)"
            return try await sql.raw(query).all().map { row in
                CampaignRecipient(message: try MessageStore.message(row), contactName: try row.optional("contact_name"))
            }
        }
    }
}
