/// Version 12: contact imports as jobs. The request stores the rows (in bounded transactions)
/// and answers; a background job adds them a batch per short transaction, so a big import never
/// holds the write lock for long; every row keeps what became of it (added, skipped, refused,
/// with the reason).
enum ContactImportSchema {
    static let migration = Migration(version: 12, name: "contact imports") { _ in
        [
            """
            CREATE TABLE contact_imports (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                actor TEXT NOT NULL,
                actor_name TEXT NOT NULL,
                consent TEXT CHECK (consent IN ('opted_in', 'opted_out')),
                status TEXT NOT NULL CHECK (status IN ('receiving', 'queued', 'running', 'completed', 'failed')),
                total INTEGER NOT NULL CHECK (total >= 0),
                processed INTEGER NOT NULL DEFAULT 0,
                added INTEGER NOT NULL DEFAULT 0,
                skipped INTEGER NOT NULL DEFAULT 0,
                refused INTEGER NOT NULL DEFAULT 0,
                failure TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                finished_at BIGINT)
            """,
            "CREATE INDEX contact_imports_organization ON contact_imports (organization_id, created_at)",
            "CREATE INDEX contact_imports_open ON contact_imports (status, created_at)",
            """
            CREATE TABLE contact_import_rows (
                id TEXT PRIMARY KEY,
                import_id TEXT NOT NULL REFERENCES contact_imports(id),
                row_index INTEGER NOT NULL CHECK (row_index >= 0),
                name TEXT,
                first_name TEXT,
                phone TEXT,
                email TEXT,
                group_names TEXT,
                field_values TEXT,
                outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'added', 'skipped', 'refused')),
                code TEXT,
                message TEXT,
                contact_id TEXT,
                UNIQUE (import_id, row_index))
            """,
            "CREATE INDEX contact_import_rows_outcome ON contact_import_rows (import_id, outcome, row_index)",
        ]
    }
}
