/// Version 24: a conversation is with one person on one of the organisation's numbers, so a
/// reply lands in the conversation of the number it came to and staff answer from that number.
/// A conversation already kept takes the number of its latest text. SQLite cannot change a
/// UNIQUE constraint in place, so its table is rebuilt (`sqliteRebuildsTables`).
enum ConversationNumberSchema {
    /// The organisation's number in a conversation's latest text ('' for one without texts).
    static let latestNumber = """
        COALESCE((SELECT CASE m.direction WHEN 'inbound' THEN m.to_number ELSE m.from_number END
                  FROM messages m WHERE m.conversation_id = c.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1), '')
        """

    static let migration = Migration(
        version: 24,
        name: "one conversation per person and organisation number",
        sqliteRebuildsTables: true
    ) { dialect in
        switch dialect {
        case .sqlite:
            return [
                """
                CREATE TABLE conversations_by_number (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations(id),
                    phone TEXT NOT NULL CHECK (phone LIKE '+%'),
                    number TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
                    unread INTEGER NOT NULL CHECK (unread >= 0),
                    flagged INTEGER NOT NULL CHECK (flagged IN (0, 1)),
                    last_message_at BIGINT NOT NULL,
                    last_message TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    UNIQUE (organization_id, phone, number))
                """,
                """
                INSERT INTO conversations_by_number (id, organization_id, phone, number, status, unread, flagged,
                    last_message_at, last_message, created_at)
                SELECT c.id, c.organization_id, c.phone, \(latestNumber), c.status, c.unread, c.flagged,
                    c.last_message_at, c.last_message, c.created_at
                FROM conversations c
                """,
                "DROP TABLE conversations",
                "ALTER TABLE conversations_by_number RENAME TO conversations",
                "CREATE INDEX conversations_recent ON conversations (organization_id, last_message_at)",
            ]
        case .postgres:
            return [
                "ALTER TABLE conversations ADD COLUMN number TEXT NOT NULL DEFAULT ''",
                "UPDATE conversations c SET number = \(latestNumber)",
                "ALTER TABLE conversations ALTER COLUMN number DROP DEFAULT",
                "ALTER TABLE conversations DROP CONSTRAINT conversations_organization_id_phone_key",
                """
                ALTER TABLE conversations ADD CONSTRAINT conversations_organization_id_phone_number_key
                    UNIQUE (organization_id, phone, number)
                """,
            ]
        }
    }
}
