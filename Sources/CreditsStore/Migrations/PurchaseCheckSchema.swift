/// Version 11: when each pending purchase is next looked up at the gateway (a lost answer is
/// found within minutes; a bank debit that stays "processing" for days is asked about hourly).
enum PurchaseCheckSchema {
    static let migration = Migration(version: 11, name: "purchase look-ups") { _ in
        [
            "ALTER TABLE purchases ADD COLUMN next_check_at BIGINT",
            "UPDATE purchases SET next_check_at = created_at + 60000 WHERE status = 'pending'",
            "CREATE INDEX purchases_next_check ON purchases (next_check_at) WHERE status = 'pending'",
        ]
    }
}
