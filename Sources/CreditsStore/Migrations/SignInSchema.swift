/// Version 10: sign-in tallies and known browsers, kept in the database so every server of an
/// installation counts the same tries. Keys and emails are stored as SHA-256 hashes only.
enum SignInSchema {
    static let migration = Migration(version: 10, name: "sign-in tallies") { _ in
        [
            """
            CREATE TABLE sign_in_tallies (
                key_hash TEXT PRIMARY KEY CHECK (length(key_hash) = 64),
                failures INTEGER NOT NULL CHECK (failures >= 0),
                last_try BIGINT NOT NULL,
                next_try BIGINT NOT NULL)
            """,
            "CREATE INDEX sign_in_tallies_last_try ON sign_in_tallies (last_try)",
            """
            CREATE TABLE known_browsers (
                token_hash TEXT NOT NULL CHECK (length(token_hash) = 64),
                email_hash TEXT NOT NULL CHECK (length(email_hash) = 64),
                expires_at BIGINT NOT NULL,
                PRIMARY KEY (token_hash, email_hash))
            """,
            "CREATE INDEX known_browsers_expiry ON known_browsers (expires_at)",
        ]
    }
}
