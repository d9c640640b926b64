/// Version 15: the public opt-in page and the JOIN keyword. `opt_ins` keeps each request to be
/// texted (where it came from, from which address, the exact wording shown) until the YES that
/// confirms it; the consent event that YES records points at it. `opt_in_tallies` counts
/// sign-ups per client address and per number (hashed) for the page's rate limit, shared by
/// every server process.
enum OptInSchema {
    static let migration = Migration(version: 15, name: "opt-in page") { _ in
        [
            """
            CREATE TABLE opt_ins (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                phone TEXT NOT NULL CHECK (phone LIKE '+%'),
                name TEXT NULL CHECK (name IS NULL OR length(name) BETWEEN 1 AND 200),
                source TEXT NOT NULL CHECK (source IN ('page', 'keyword')),
                address TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
                wording TEXT NOT NULL CHECK (length(wording) BETWEEN 1 AND 20000),
                message_id TEXT NULL,
                requested_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL CHECK (expires_at > requested_at),
                confirmed_at BIGINT NULL CHECK (confirmed_at IS NULL OR confirmed_at >= requested_at))
            """,
            "CREATE INDEX opt_ins_phone ON opt_ins (organization_id, phone, requested_at)",
            """
            CREATE TABLE opt_in_tallies (
                key_hash TEXT PRIMARY KEY CHECK (length(key_hash) = 64),
                window_start BIGINT NOT NULL,
                tries INTEGER NOT NULL CHECK (tries >= 0))
            """,
            "CREATE INDEX opt_in_tallies_window ON opt_in_tallies (window_start)",
            "ALTER TABLE consent_events ADD COLUMN opt_in_id TEXT NULL REFERENCES opt_ins(id)",
        ]
    }
}
