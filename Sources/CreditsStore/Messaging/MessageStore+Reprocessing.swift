import CreditsCore
import Foundation
import SQLKit

extension MessageStore {
    /// Where reprocessing goes, read in the caller's unit of work: for each of these
    /// organisations that turned reprocessing from toll-free on and has a verified toll-free
    /// number in use, that number (its oldest).
    public static func reprocessingSenders(_ organizations: Set<OrganizationID>, in work: UnitOfWork) async throws
        -> [OrganizationID: String]
    {
        guard !organizations.isEmpty else { return [:] }
        let sql = work.sql
        var senders: [OrganizationID: String] = [:]
        for organization in organizations.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard
                let row = try await sql.raw(
                    "SELECT sms_settings FROM organizations WHERE id = \(bind: organization.rawValue)"
                ).first(),
                let settings = try? JSONDecoder().decode(
                    SMSSettings.self,
                    from: Data(try row.value("sms_settings", as: String.self).utf8)
                ),
                settings.reprocessFromTollFree
            else { continue }
            if let number = try await sql.raw(
                """
                SELECT number FROM phone_numbers WHERE organization_id = \(bind: organization.rawValue)
                  AND kind = 'toll_free' AND verification = 'verified' AND released_at IS NULL
                ORDER BY created_at, number LIMIT 1
                """
            ).first() {
                senders[organization] = try number.value("number")
            }
        }
        return senders
    }

    /// The account each hold reserved from, read in the caller's unit of work — only holds still
    /// pending (one charged by its timeout is not released again, so its text is not re-sent)
    /// of texts whose campaign was not canceled.
    public static func holdAccounts(_ holds: [HoldID], in work: UnitOfWork) async throws -> [HoldID: AccountID] {
        var accounts: [HoldID: AccountID] = [:]
        for chunk in holds.map(\.rawValue).inListChunks {
            for row in try await work.sql.raw(
                """
                SELECT h.id, h.account_id FROM ledger_holds h JOIN messages m ON m.hold_id = h.id
                LEFT JOIN campaigns c ON c.id = m.campaign_id
                WHERE \(chunk.sqlMembership("h.id", for: work.sql)) AND h.status = 'pending'
                  AND (c.id IS NULL OR c.status <> 'canceled')
                """
            ).all() {
                accounts[HoldID(try row.value("id"))] = AccountID(try row.value("account_id"))
            }
        }
        return accounts
    }

    /// Counts re-sends' holds in their campaigns' reserved credits, in the caller's unit of work.
    public static func addReserved(_ resends: [Message], in work: UnitOfWork) async throws {
        for (campaign, messages) in Dictionary(
            grouping: resends.filter { $0.campaignID != nil },
            by: { $0.campaignID ?? "" }
        ) {
            let amount = messages.reduce(Int64(0)) { $0 + $1.credits.milli }
            try await work.sql.raw(
                "UPDATE campaigns SET credits_reserved = credits_reserved + \(bind: amount) WHERE id = \(bind: campaign)"
            ).run()
        }
    }

    /// Adds a history step to each message without changing its status, in the caller's unit of work.
    public static func note(
        _ notes: [(id: String, status: MessageStatus, detail: String)],
        at instant: Date,
        in work: UnitOfWork
    )
        async throws
    {
        try await insertEvents(
            notes.map { MessageEventRow(id: $0.id, status: $0.status, detail: $0.detail) },
            at: instant,
            on: work.sql
        )
    }
}
