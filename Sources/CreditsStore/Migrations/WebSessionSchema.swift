/// Version 9: staff sign-in sessions of the web portal. Only a hash of the session token is
/// stored, so a database leak does not hand out signed-in sessions.
enum WebSessionSchema {
    static let migration = Migration(version: 9, name: "web sessions") { _ in
        [
            """
            CREATE TABLE web_sessions (
                token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64),
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                staff_id TEXT NOT NULL REFERENCES staff(id),
                csrf_token TEXT NOT NULL CHECK (length(csrf_token) = 64),
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL CHECK (expires_at > created_at))
            """,
            "CREATE INDEX web_sessions_expiry ON web_sessions (expires_at)",
            "CREATE INDEX web_sessions_staff ON web_sessions (staff_id)",
        ]
    }
}
