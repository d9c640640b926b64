/// Version 17: contacts imported from a CSV file in the portal. The uploaded file is kept in the
/// database between the upload and the mapping step (so any server process can take the next
/// step); an import remembers the file's name and columns and how its consent was given, and each
/// of its rows the file line it started on and its cells as read, for the skipped-rows download.
enum ContactUploadSchema {
    static let migration = Migration(version: 17, name: "contact uploads") { _ in
        [
            """
            CREATE TABLE contact_uploads (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                staff_id TEXT NOT NULL,
                file_name TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
                byte_count INTEGER NOT NULL CHECK (byte_count >= 0),
                row_count INTEGER NOT NULL CHECK (row_count >= 0),
                content TEXT NOT NULL,
                import_id TEXT,
                created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX contact_uploads_created ON contact_uploads (created_at)",
            """
            ALTER TABLE contact_imports ADD COLUMN consent_basis TEXT
                CHECK (consent_basis IS NULL OR length(consent_basis) BETWEEN 1 AND 200)
            """,
            "ALTER TABLE contact_imports ADD COLUMN file_name TEXT",
            "ALTER TABLE contact_imports ADD COLUMN file_columns TEXT",
            "ALTER TABLE contact_import_rows ADD COLUMN line INTEGER CHECK (line IS NULL OR line >= 2)",
            "ALTER TABLE contact_import_rows ADD COLUMN cells TEXT",
        ]
    }
}
