/// Version 21: media a text carries. The bytes are kept once per content (`media_blobs`, keyed
/// by their SHA-256), so every server process serves them from the database; `media` is one
/// organisation's upload of them; a message names its media.
enum MediaSchema {
    static let migration = Migration(version: 21, name: "media for picture messages") { dialect in
        [
            """
            CREATE TABLE media_blobs (
                sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
                content_type TEXT NOT NULL,
                size BIGINT NOT NULL CHECK (size > 0),
                bytes \(dialect == .sqlite ? "BLOB" : "BYTEA") NOT NULL,
                created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE media (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                sha256 TEXT NOT NULL REFERENCES media_blobs(sha256),
                filename TEXT NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
                kind TEXT NOT NULL,
                size BIGINT NOT NULL CHECK (size > 0),
                direction TEXT NOT NULL CHECK (direction IN ('uploaded', 'received')),
                created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX media_organization ON media (organization_id, created_at)",
            "ALTER TABLE messages ADD COLUMN media TEXT NULL",
            "ALTER TABLE campaigns ADD COLUMN media TEXT NULL",
            "ALTER TABLE simulator_messages ADD COLUMN media_urls TEXT NULL",
        ]
    }
}
