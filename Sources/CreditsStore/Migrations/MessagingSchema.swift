/// Version 3: numbers, brand and number registration, campaigns, the message outbox with its
/// status history, conversations, and the Simulator's record of what it accepted.
enum MessagingSchema {
    static let migration = Migration(version: 3, name: "numbers, campaigns, messages and conversations") { dialect in
        var statements = [
            """
            CREATE TABLE phone_numbers (
                number TEXT PRIMARY KEY CHECK (number LIKE '+%'),
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                kind TEXT NOT NULL CHECK (kind IN ('test', 'local', 'toll_free')),
                provider TEXT NOT NULL,
                created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX phone_numbers_organization ON phone_numbers (organization_id)",
            """
            CREATE TABLE brand_registrations (
                organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                status TEXT NOT NULL CHECK (status IN ('pending', 'registered', 'failed')),
                provider_id TEXT NOT NULL,
                details TEXT NOT NULL,
                failure_reason TEXT NULL,
                failure_message TEXT NULL,
                submitted_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE number_requests (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                area_code TEXT NOT NULL CHECK (length(area_code) = 3),
                status TEXT NOT NULL CHECK (status IN ('pending', 'assigned', 'failed')),
                provider_id TEXT NOT NULL,
                number TEXT NULL,
                failure_message TEXT NULL,
                requested_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX number_requests_pending ON number_requests (requested_at) WHERE status = 'pending'",
            """
            CREATE TABLE campaigns (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                actor TEXT NOT NULL,
                actor_name TEXT NOT NULL,
                body TEXT NOT NULL,
                channel TEXT NOT NULL CHECK (channel IN ('sms', 'toll-free', 'mms')),
                automated INTEGER NOT NULL CHECK (automated IN (0, 1)),
                send_at BIGINT NULL,
                not_before BIGINT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'canceled')),
                requested INTEGER NOT NULL CHECK (requested >= 0),
                accepted INTEGER NOT NULL CHECK (accepted >= 0 AND accepted <= requested),
                skipped TEXT NOT NULL,
                credits_reserved BIGINT NOT NULL CHECK (credits_reserved >= 0),
                created_at BIGINT NOT NULL,
                canceled_at BIGINT NULL)
            """,
            "CREATE INDEX campaigns_organization ON campaigns (organization_id, created_at)",
            """
            CREATE TABLE conversations (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                phone TEXT NOT NULL CHECK (phone LIKE '+%'),
                status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
                unread INTEGER NOT NULL CHECK (unread >= 0),
                flagged INTEGER NOT NULL CHECK (flagged IN (0, 1)),
                last_message_at BIGINT NOT NULL,
                last_message TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (organization_id, phone))
            """,
            "CREATE INDEX conversations_recent ON conversations (organization_id, last_message_at)",
            """
            CREATE TABLE messages (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                campaign_id TEXT NULL REFERENCES campaigns(id),
                conversation_id TEXT NULL REFERENCES conversations(id),
                direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
                kind TEXT NOT NULL CHECK (kind IN ('campaign', 'reply', 'keyword_reply', 'signup', 'notice', 'inbound')),
                from_number TEXT NOT NULL,
                to_number TEXT NOT NULL,
                body TEXT NOT NULL,
                channel TEXT NOT NULL CHECK (channel IN ('sms', 'toll-free', 'mms')),
                segments INTEGER NOT NULL CHECK (segments >= 0),
                credits BIGINT NOT NULL CHECK (credits >= 0),
                status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'canceled', 'received')),
                hold_id TEXT NULL REFERENCES ledger_holds(id),
                provider_id TEXT NULL,
                provider_segments INTEGER NULL,
                error_code TEXT NULL,
                error_message TEXT NULL,
                flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
                not_before BIGINT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                retry INTEGER NOT NULL DEFAULT 0 CHECK (retry IN (0, 1)),
                lease_until BIGINT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CHECK ((direction = 'inbound' AND status = 'received') OR (direction = 'outbound' AND status <> 'received')),
                CHECK (credits = 0 OR hold_id IS NOT NULL),
                CHECK (status <> 'sending' OR lease_until IS NOT NULL))
            """,
            "CREATE INDEX messages_ready ON messages (not_before) WHERE status = 'queued'",
            "CREATE INDEX messages_leased ON messages (lease_until) WHERE status = 'sending'",
            "CREATE INDEX messages_campaign ON messages (campaign_id, status)",
            "CREATE INDEX messages_conversation ON messages (conversation_id, created_at) WHERE conversation_id IS NOT NULL",
            "CREATE UNIQUE INDEX messages_provider ON messages (provider_id) WHERE provider_id IS NOT NULL",
            """
            CREATE TABLE message_events (
                id \(DDL.serialKey(dialect)),
                message_id TEXT NOT NULL REFERENCES messages(id),
                status TEXT NOT NULL,
                detail TEXT NULL,
                created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX message_events_message ON message_events (message_id, id)",
            """
            CREATE TABLE simulator_messages (
                reference TEXT PRIMARY KEY,
                provider_id TEXT NOT NULL UNIQUE,
                from_number TEXT NOT NULL,
                to_number TEXT NOT NULL,
                body TEXT NOT NULL,
                outcome TEXT NOT NULL,
                error_code TEXT NULL,
                segments INTEGER NOT NULL,
                status_callback TEXT NOT NULL,
                attempts INTEGER NOT NULL CHECK (attempts >= 1),
                accepted_at BIGINT NOT NULL,
                callback_delivered_at BIGINT NULL)
            """,
            "CREATE INDEX simulator_pending ON simulator_messages (accepted_at) WHERE callback_delivered_at IS NULL",
            """
            CREATE TABLE server_secrets (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                created_at BIGINT NOT NULL)
            """,
        ]
        statements += DDL.appendOnly("message_events", dialect)
        return statements
    }
}
