/// Version 27: the shared short code add-on. An organisation holds at most one keyword on the
/// operator's shared short code while it pays the monthly fee (a purchase of kind `short_code`,
/// once per credit month, claimed like the other monthly charges); a stopped keyword works until
/// the end of the month paid for.
enum ShortCodeSchema {
    static let purchaseKinds =
        "('manual', 'auto_renew', 'bucket', 'plan', 'rollover_protection', 'monthly_fee', 'short_code')"
    static let monthlyKinds = "('allotments', 'numbers', 'monthly_fee', 'short_code')"

    static let migration = Migration(
        version: 27,
        name: "shared short code keywords",
        sqliteWidenings: [
            SQLiteWidening(
                table: "purchases",
                from: "kind TEXT NOT NULL CHECK (kind IN \(SubscriptionSchema.purchaseKinds))",
                to: "kind TEXT NOT NULL CHECK (kind IN \(purchaseKinds))"
            ),
            SQLiteWidening(
                table: "monthly_runs",
                from: "kind TEXT NOT NULL CHECK (kind IN ('allotments', 'numbers', 'monthly_fee'))",
                to: "kind TEXT NOT NULL CHECK (kind IN \(monthlyKinds))"
            ),
        ]
    ) { dialect in
        var statements = [
            """
            CREATE TABLE short_code_keywords (
                keyword TEXT PRIMARY KEY CHECK (length(keyword) BETWEEN 3 AND 20),
                organization_id TEXT NOT NULL UNIQUE REFERENCES organizations(id),
                created_at BIGINT NOT NULL,
                ends_at BIGINT NULL)
            """
        ]
        if dialect == .postgres {
            statements += [
                "ALTER TABLE purchases DROP CONSTRAINT purchases_kind_check",
                "ALTER TABLE purchases ADD CONSTRAINT purchases_kind_check CHECK (kind IN \(purchaseKinds))",
                "ALTER TABLE monthly_runs DROP CONSTRAINT monthly_runs_kind_check",
                "ALTER TABLE monthly_runs ADD CONSTRAINT monthly_runs_kind_check CHECK (kind IN \(monthlyKinds))",
            ]
        }
        return statements
    }
}
