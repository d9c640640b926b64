/// Version 29: outbound webhooks. Endpoints per organisation with the event types they want and
/// their signing secrets (the previous one kept until its overlap ends); an outbox of events,
/// written in the same transaction as the change they tell of; one delivery per endpoint that
/// wanted an event, with its tries. Campaigns remember when they completed (told once), and each
/// organisation's credit level is kept so "low" and "exhausted" are told once per crossing.
/// Events and deliveries name their organisation without a foreign key: on PostgreSQL checking
/// one takes a KEY SHARE lock on the organisation's row, and a settlement that wrote events before
/// locking that row FOR UPDATE for the ledger would deadlock with another doing the same (rows
/// are only ever written with an organisation the change itself belongs to).
enum WebhooksSchema {
    static let migration = Migration(version: 29, name: "outbound webhooks") { dialect in
        [
            """
            CREATE TABLE webhook_endpoints (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                url TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
                description TEXT NULL,
                event_types TEXT NOT NULL,
                secret TEXT NOT NULL,
                previous_secret TEXT NULL,
                previous_secret_until BIGINT NULL,
                enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
                disabled_reason TEXT NULL,
                failing_since BIGINT NULL,
                consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
                paused_until BIGINT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted_at BIGINT NULL)
            """,
            "CREATE INDEX webhook_endpoints_organization ON webhook_endpoints (organization_id) WHERE deleted_at IS NULL",
            """
            CREATE TABLE webhook_events (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                type TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY,
                event_id TEXT NOT NULL REFERENCES webhook_events(id),
                endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
                organization_id TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                next_attempt_at BIGINT NULL,
                lease_until BIGINT NULL,
                last_status INTEGER NULL,
                last_error TEXT NULL,
                delivered_at BIGINT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at)",
            """
            CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries (endpoint_id, next_attempt_at)
            WHERE status = 'pending'
            """,
            """
            CREATE TABLE webhook_attempts (
                id \(DDL.serialKey(dialect)),
                delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
                at BIGINT NOT NULL,
                status_code INTEGER NULL,
                error TEXT NULL,
                milliseconds INTEGER NOT NULL)
            """,
            "CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id)",
            """
            CREATE TABLE webhook_credit_levels (
                organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                level TEXT NOT NULL CHECK (level IN ('ok', 'low', 'exhausted')),
                changed_at BIGINT NOT NULL)
            """,
            "ALTER TABLE campaigns ADD COLUMN completed_at BIGINT NULL",
        ]
    }
}
