/// Version 8: monthly auto-renew state — the month already purchased for and the highest
/// multiple of the amount the primary contact was told about this month.
enum MonthlyAutoRenewSchema {
    static let migration = Migration(version: 8, name: "monthly auto-renew") { _ in
        [
            "ALTER TABLE auto_renew ADD COLUMN purchased_month TEXT NULL",
            "ALTER TABLE auto_renew ADD COLUMN notified_multiple BIGINT NOT NULL DEFAULT 0 CHECK (notified_multiple >= 0)",
        ]
    }
}
