/// Version 5: auto-renew settings and the state that makes it fire once per threshold crossing.
enum AutoRenewSchema {
    static let migration = Migration(version: 5, name: "auto-renew") { _ in
        [
            """
            CREATE TABLE auto_renew (
                organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
                mode TEXT NOT NULL CHECK (mode IN ('immediate', 'monthly')),
                credits BIGINT NOT NULL CHECK (credits > 0),
                threshold BIGINT NOT NULL CHECK (threshold >= 0),
                armed INTEGER NOT NULL CHECK (armed IN (0, 1)),
                due INTEGER NOT NULL CHECK (due IN (0, 1)),
                crossings BIGINT NOT NULL CHECK (crossings >= 0),
                failed_purchase_id TEXT NULL REFERENCES purchases(id),
                updated_at BIGINT NOT NULL,
                CHECK (NOT (armed = 1 AND due = 1)))
            """,
            "CREATE INDEX auto_renew_due ON auto_renew (organization_id) WHERE due = 1",
        ]
    }
}
