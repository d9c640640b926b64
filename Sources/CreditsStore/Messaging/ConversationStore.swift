import CreditsCore
import Foundation
import SQLKit

/// Which conversations the Messenger Center lists.
public enum ConversationFilter: String, Sendable, CaseIterable {
    case open
    case closed
    case unread
    /// Those whose texts asked to stop in other words (opt-out requests).
    case flagged
}

/// The Messenger Center: one conversation per person and organisation number.
public struct ConversationStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    static let select = """
        SELECT v.id, v.organization_id, v.phone, v.number, v.status, v.unread, v.flagged, v.last_message_at, v.last_message, v.created_at,
               c.id AS contact_id, c.name AS contact_name
        FROM conversations v LEFT JOIN contacts c ON c.organization_id = v.organization_id AND c.phone = v.phone AND c.deleted_at IS NULL
        """

    static func conversation(_ row: any SQLRow) throws -> Conversation {
        guard let status = ConversationStatus(rawValue: try row.value("status")) else {
            throw StoreError.unreadableRow("conversation")
        }
        return Conversation(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            phone: try row.value("phone"),
            number: try row.value("number"),
            contactName: try row.optional("contact_name"),
            contactID: try row.optional("contact_id"),
            status: status,
            unread: try row.value("unread"),
            flagged: try row.value("flagged", as: Int.self) == 1,
            lastMessageAt: try row.date("last_message_at"),
            lastMessage: try row.value("last_message"),
            createdAt: try row.date("created_at")
        )
    }

    /// Finds or opens the conversation with a person on one of the organisation's numbers
    /// (`number`: the one they texted, or the one staff text them from) in the caller's unit of
    /// work, records its latest message, and returns its id. Inbound texts reopen it and count as
    /// unread.
    public static func touch(
        organization: OrganizationID,
        phone: String,
        number: String,
        message: String,
        inbound: Bool,
        flagged: Bool,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> String {
        let sql = work.sql
        let preview = String(message.prefix(200))
        if let row = try await sql.raw(
            """
            SELECT id FROM conversations WHERE organization_id = \(bind: organization.rawValue) AND phone = \(bind: phone)
              AND number = \(bind: number)
            """
        ).first() {
            let id: String = try row.value("id")
            try await sql.raw(
                """
                UPDATE conversations SET last_message_at = \(bind: instant.milliseconds), last_message = \(bind: preview),
                    unread = unread + \(bind: inbound ? 1 : 0), status = CASE WHEN \(bind: inbound ? 1 : 0) = 1 THEN 'open' ELSE status END,
                    flagged = CASE WHEN \(bind: flagged ? 1 : 0) = 1 THEN 1 ELSE flagged END
                WHERE id = \(bind: id)
                """
            ).run()
            return id
        }
        let id = Identifier.make("cnv_")
        try await sql.raw(
            """
            INSERT INTO conversations (id, organization_id, phone, number, status, unread, flagged, last_message_at, last_message,
                created_at)
            VALUES (\(bind: id), \(bind: organization.rawValue), \(bind: phone), \(bind: number), 'open', \(bind: inbound ? 1 : 0), \(bind: flagged ? 1 : 0),
                    \(bind: instant.milliseconds), \(bind: preview), \(bind: instant.milliseconds))
            """
        ).run()
        return id
    }

    /// Conversations, most recent first, optionally only open, closed, unread or flagged ones.
    public func list(
        _ organization: OrganizationID,
        filter: ConversationFilter?,
        numbers: [String]? = nil,
        after cursor: RecencyCursor? = nil,
        limit: Int
    ) async throws
        -> [Conversation]
    {
        try await database.read { sql in
            var query: SQLQueryString =
                "\(unsafeRaw: ConversationStore.select) WHERE v.organization_id = \(bind: organization.rawValue)"
            switch filter {
            case .open?: query += " AND v.status = 'open'"
            case .closed?: query += " AND v.status = 'closed'"
            case .unread?: query += " AND v.unread > 0"
            case .flagged?: query += " AND v.flagged = 1"
            case nil: break
            }
            if let numbers {
                query += " AND \((numbers.isEmpty ? [""] : numbers).sqlMembership("v.number", for: sql))"
            }
            if let cursor { query += cursor.condition(instant: "v.last_message_at", id: "v.id") }
            query += " ORDER BY v.last_message_at DESC, v.id DESC LIMIT \(bind: max(1, min(limit, 500)))"
            return try await sql.raw(query).all().map(ConversationStore.conversation)
        }
    }

    /// One conversation with its messages, oldest first.
    public func conversation(_ id: String, of organization: OrganizationID) async throws -> (Conversation, [Message])? {
        try await database.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    \(unsafeRaw: ConversationStore.select) WHERE v.id = \(bind: id) AND v.organization_id = \(bind: organization.rawValue)
                    """
                ).first()
            else { return nil }
            let messages = try await sql.raw(
                """
                \(unsafeRaw: MessageStore.selectWithCharge) WHERE m.conversation_id = \(bind: id) ORDER BY m.created_at, m.id LIMIT 1000
                """
            ).all().map(MessageStore.message)
            return (try ConversationStore.conversation(row), messages)
        }
    }

    /// Opens, closes or marks a conversation read.
    public func update(
        _ id: String,
        of organization: OrganizationID,
        status: ConversationStatus?,
        read: Bool,
        flagged: Bool?
    ) async throws {
        try await database.transaction { sql in
            if let status {
                try await sql.raw(
                    "UPDATE conversations SET status = \(bind: status.rawValue) WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)"
                ).run()
            }
            if read {
                try await sql.raw(
                    "UPDATE conversations SET unread = 0 WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)"
                ).run()
            }
            if let flagged {
                try await sql.raw(
                    """
                    UPDATE conversations SET flagged = \(bind: flagged ? 1 : 0) WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)
                    """
                ).run()
            }
        }
    }
}
