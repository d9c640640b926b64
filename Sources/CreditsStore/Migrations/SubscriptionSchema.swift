/// Version 20: the credit model organisations run themselves. The operator's plan catalogue;
/// subscriptions (the `plans` row gains the catalogue plan, its state, a change waiting for the
/// cycle end and the rollover-protection add-on); purchases that are plan fees, add-on fees, the
/// monthly platform fee or credit buckets (a fee may add no credits, so a paid purchase needs a
/// transfer only when it added credits); the Admin+ role; each organisation's allotment day and
/// spam mark; and a claim per organisation, kind and month for the monthly jobs (allotments,
/// number charges, the monthly fee), so each runs once per month whichever server runs it.
///
/// SQLite cannot alter a CHECK constraint and rebuilding `staff` (which other tables' foreign
/// keys point at) inside a transaction is not possible with foreign keys on, so its constraints
/// are widened in the schema text (`SQLiteWidening`); PostgreSQL replaces them in place.
enum SubscriptionSchema {
    static let purchaseKinds = "('manual', 'auto_renew', 'bucket', 'plan', 'rollover_protection', 'monthly_fee')"
    static let roles = "('owner', 'admin_plus', 'admin', 'billing', 'staff')"
    static let paidRule =
        "(status = 'succeeded') = (charge_id IS NOT NULL AND invoice_number IS NOT NULL AND (transfer_id IS NOT NULL OR credits = 0))"

    static let migration = Migration(
        version: 20,
        name: "plan catalogue, subscriptions, Admin+ and monthly charges",
        sqliteWidenings: [
            SQLiteWidening(
                table: "purchases",
                from: "kind TEXT NOT NULL CHECK (kind IN ('manual', 'auto_renew'))",
                to: "kind TEXT NOT NULL CHECK (kind IN \(purchaseKinds))"
            ),
            SQLiteWidening(
                table: "purchases",
                from: "credits BIGINT NOT NULL CHECK (credits > 0)",
                to: "credits BIGINT NOT NULL CHECK (credits >= 0)"
            ),
            SQLiteWidening(
                table: "purchases",
                from: "unit_price BIGINT NOT NULL CHECK (unit_price > 0)",
                to: "unit_price BIGINT NOT NULL CHECK (unit_price >= 0)"
            ),
            // Every stored purchase added credits, so it reads the same for them.
            SQLiteWidening(
                table: "purchases",
                from:
                    "CHECK ((status = 'succeeded') = (charge_id IS NOT NULL AND transfer_id IS NOT NULL AND invoice_number IS NOT NULL))",
                to: "CHECK (\(paidRule))"
            ),
            SQLiteWidening(
                table: "staff",
                from: "role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'billing', 'staff'))",
                to: "role TEXT NOT NULL CHECK (role IN \(roles))"
            ),
        ]
    ) { dialect in
        var statements = [
            """
            CREATE TABLE plan_catalogue (
                id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 40),
                name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                credits BIGINT NOT NULL CHECK (credits > 0),
                includes_rollover_protection INTEGER NOT NULL CHECK (includes_rollover_protection IN (0, 1)),
                prices TEXT NOT NULL,
                position INTEGER NOT NULL DEFAULT 0,
                active INTEGER NOT NULL CHECK (active IN (0, 1)),
                updated_at BIGINT NOT NULL)
            """,
            "ALTER TABLE plans ADD COLUMN catalogue_id TEXT NULL REFERENCES plan_catalogue(id)",
            "ALTER TABLE plans ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'past_due', 'cancelled'))",
            "ALTER TABLE plans ADD COLUMN next_catalogue_id TEXT NULL REFERENCES plan_catalogue(id)",
            "ALTER TABLE plans ADD COLUMN next_cycle TEXT NULL CHECK (next_cycle IS NULL OR next_cycle IN ('monthly', 'yearly'))",
            "ALTER TABLE plans ADD COLUMN cancel_at_period_end INTEGER NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1))",
            "ALTER TABLE plans ADD COLUMN rollover_addon INTEGER NOT NULL DEFAULT 0 CHECK (rollover_addon IN (0, 1))",
            "ALTER TABLE plans ADD COLUMN renewed_period BIGINT NULL",
            "ALTER TABLE organizations ADD COLUMN allotment_day INTEGER NOT NULL DEFAULT 1 CHECK (allotment_day BETWEEN 1 AND 28)",
            "ALTER TABLE organizations ADD COLUMN spam_at BIGINT NULL",
            """
            CREATE TABLE monthly_runs (
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                kind TEXT NOT NULL CHECK (kind IN ('allotments', 'numbers', 'monthly_fee')),
                period_start BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (organization_id, kind, period_start))
            """,
        ]
        switch dialect {
        case .postgres:
            statements += [
                "ALTER TABLE purchases DROP CONSTRAINT purchases_kind_check",
                "ALTER TABLE purchases ADD CONSTRAINT purchases_kind_check CHECK (kind IN \(purchaseKinds))",
                "ALTER TABLE purchases DROP CONSTRAINT purchases_credits_check",
                "ALTER TABLE purchases ADD CONSTRAINT purchases_credits_check CHECK (credits >= 0)",
                "ALTER TABLE purchases DROP CONSTRAINT purchases_unit_price_check",
                "ALTER TABLE purchases ADD CONSTRAINT purchases_unit_price_check CHECK (unit_price >= 0)",
                "ALTER TABLE purchases DROP CONSTRAINT purchases_check1",
                "ALTER TABLE purchases ADD CONSTRAINT purchases_paid_check CHECK (\(paidRule))",
                "ALTER TABLE staff DROP CONSTRAINT staff_role_check",
                "ALTER TABLE staff ADD CONSTRAINT staff_role_check CHECK (role IN \(roles))",
            ]
        case .sqlite:
            break  // `sqliteWidenings`
        }
        statements += [
            "ALTER TABLE purchases ADD COLUMN description TEXT NULL",
            "ALTER TABLE purchases ADD COLUMN period_start BIGINT NULL",
            "ALTER TABLE purchases ADD COLUMN period_end BIGINT NULL",
            "ALTER TABLE purchases ADD COLUMN lot_expires_at BIGINT NULL",
        ]
        return statements
    }
}
