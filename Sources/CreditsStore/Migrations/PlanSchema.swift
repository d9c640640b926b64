/// Version 7: plans and the record of cycles granted (one row per organisation and period, so
/// the scheduler is safe to run twice and to catch up).
enum PlanSchema {
    static let migration = Migration(version: 7, name: "plans and plan cycles") { _ in
        [
            """
            CREATE TABLE plans (
                organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                name TEXT NOT NULL,
                credits BIGINT NOT NULL CHECK (credits > 0),
                cycle TEXT NOT NULL CHECK (cycle IN ('monthly', 'yearly')),
                rollover_protection INTEGER NOT NULL CHECK (rollover_protection IN (0, 1)),
                starts_at BIGINT NOT NULL,
                active INTEGER NOT NULL CHECK (active IN (0, 1)),
                updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE plan_cycles (
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                period_start BIGINT NOT NULL,
                period_end BIGINT NOT NULL CHECK (period_end > period_start),
                outcome TEXT NOT NULL CHECK (outcome IN ('granted', 'missed')),
                created_at BIGINT NOT NULL,
                PRIMARY KEY (organization_id, period_start))
            """,
        ]
    }
}
