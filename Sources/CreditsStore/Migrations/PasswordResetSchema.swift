/// Version 14: password reset links. Only a hash of each link's token is kept; a link works
/// once, for an hour.
enum PasswordResetSchema {
    static let migration = Migration(version: 14, name: "password resets") { _ in
        [
            """
            CREATE TABLE password_resets (
                token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                staff_id TEXT NOT NULL REFERENCES staff(id),
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL CHECK (expires_at > created_at),
                used_at BIGINT NULL)
            """,
            "CREATE INDEX password_resets_staff ON password_resets (staff_id, created_at)",
        ]
    }
}
