/// Version 19: a monthly auto-renew purchase is claimed for a while (a lease), with the amount it
/// decided, and marked made only after the charge: a server that stops between the claim and the
/// charge leaves a claim the next run takes over once its lease ends, instead of a month silently
/// skipped.
enum MonthlyClaimSchema {
    static let migration = Migration(version: 19, name: "monthly auto-renew claims") { _ in
        [
            "ALTER TABLE auto_renew ADD COLUMN claimed_month TEXT NULL",
            "ALTER TABLE auto_renew ADD COLUMN claim_until BIGINT NULL",
            "ALTER TABLE auto_renew ADD COLUMN claimed_credits BIGINT NULL CHECK (claimed_credits IS NULL OR claimed_credits >= 0)",
        ]
    }
}
