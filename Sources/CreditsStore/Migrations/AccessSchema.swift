/// Version 2: organisation settings, staff, API keys, contacts with groups and consent, and the
/// audit log (DESIGN §5).
enum AccessSchema {
    static let migration = Migration(version: 2, name: "staff, API keys, contacts, consent and audit log") { dialect in
        var statements = [
            "ALTER TABLE organizations ADD COLUMN credit_mode TEXT NOT NULL DEFAULT 'shared' CHECK (credit_mode IN ('shared', 'individual'))",
            "ALTER TABLE organizations ADD COLUMN sms_settings TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE organizations ADD COLUMN account_name TEXT NOT NULL DEFAULT ''",
            """
            CREATE TABLE staff (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
                email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
                role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'billing', 'staff')),
                permissions TEXT NOT NULL,
                password_hash TEXT NULL,
                wallet_account_id TEXT NULL REFERENCES ledger_accounts(id),
                monthly_allotment BIGINT NOT NULL DEFAULT 0 CHECK (monthly_allotment >= 0),
                low_balance_threshold BIGINT NULL CHECK (low_balance_threshold IS NULL OR low_balance_threshold >= 0),
                created_at BIGINT NOT NULL,
                deleted_at BIGINT NULL)
            """,
            "CREATE UNIQUE INDEX staff_email ON staff (organization_id, email) WHERE deleted_at IS NULL",
            "CREATE INDEX staff_by_email ON staff (email) WHERE deleted_at IS NULL",
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                staff_id TEXT NOT NULL REFERENCES staff(id),
                name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                secret_hash TEXT NOT NULL CHECK (length(secret_hash) = 64),
                created_at BIGINT NOT NULL,
                revoked_at BIGINT NULL)
            """,
            """
            CREATE TABLE contacts (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
                first_name TEXT NOT NULL CHECK (length(first_name) <= 100),
                phone TEXT NOT NULL CHECK (phone LIKE '+%' AND length(phone) BETWEEN 8 AND 16),
                email TEXT NULL CHECK (email IS NULL OR length(email) <= 254),
                fields TEXT NOT NULL DEFAULT '{}',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted_at BIGINT NULL)
            """,
            "CREATE UNIQUE INDEX contacts_phone ON contacts (organization_id, phone) WHERE deleted_at IS NULL",
            """
            CREATE TABLE contact_groups (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                created_at BIGINT NOT NULL,
                UNIQUE (organization_id, name))
            """,
            """
            CREATE TABLE contact_group_members (
                group_id TEXT NOT NULL REFERENCES contact_groups(id),
                contact_id TEXT NOT NULL REFERENCES contacts(id),
                PRIMARY KEY (group_id, contact_id))
            """,
            "CREATE INDEX contact_group_members_contact ON contact_group_members (contact_id)",
            """
            CREATE TABLE consents (
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                phone TEXT NOT NULL CHECK (phone LIKE '+%'),
                state TEXT NOT NULL CHECK (state IN ('opted_in', 'opted_out')),
                changed_at BIGINT NOT NULL,
                PRIMARY KEY (organization_id, phone))
            """,
            """
            CREATE TABLE consent_events (
                id \(DDL.serialKey(dialect)),
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                phone TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('opted_in', 'opted_out')),
                source TEXT NOT NULL CHECK (source IN ('staff', 'api', 'keyword', 'import')),
                raw_text TEXT NULL,
                actor TEXT NOT NULL,
                created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX consent_events_phone ON consent_events (organization_id, phone, id)",
            """
            CREATE TABLE audit_log (
                id \(DDL.serialKey(dialect)),
                organization_id TEXT NULL REFERENCES organizations(id),
                created_at BIGINT NOT NULL,
                actor_type TEXT NOT NULL CHECK (actor_type IN ('staff', 'api_key', 'system', 'operator', 'contact')),
                actor_id TEXT NULL,
                actor_name TEXT NOT NULL,
                action TEXT NOT NULL,
                message TEXT NOT NULL,
                subject_type TEXT NULL,
                subject_id TEXT NULL)
            """,
            "CREATE INDEX audit_log_organization ON audit_log (organization_id, created_at)",
        ]
        for table in ["audit_log", "consent_events"] { statements += DDL.appendOnly(table, dialect) }
        return statements
    }
}
