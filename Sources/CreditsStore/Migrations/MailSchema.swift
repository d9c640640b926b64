/// Version 6: the mail outbox and the record of low-balance alerts (one per staff member a day).
enum MailSchema {
    static let migration = Migration(version: 6, name: "mail outbox and low-balance alerts") { _ in
        [
            """
            CREATE TABLE mail_outbox (
                id TEXT PRIMARY KEY,
                organization_id TEXT NULL REFERENCES organizations(id),
                kind TEXT NOT NULL,
                to_address TEXT NOT NULL CHECK (to_address LIKE '%@%'),
                subject TEXT NOT NULL,
                body TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('stored', 'queued', 'sent', 'failed')),
                created_at BIGINT NOT NULL,
                sent_at BIGINT NULL,
                error TEXT NULL)
            """,
            "CREATE INDEX mail_outbox_organization ON mail_outbox (organization_id, created_at)",
            """
            CREATE TABLE low_balance_alerts (
                staff_id TEXT NOT NULL REFERENCES staff(id),
                day TEXT NOT NULL,
                mail_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (staff_id, day))
            """,
        ]
    }
}
