/// Version 26: toll-free verification. A toll-free number sends only once the carriers approved
/// what it is for: its verification is pending (submitted, or waiting to be), verified or
/// rejected, with the provider's id and sentence. The request keeps the details to submit.
/// Toll-free numbers kept before verification was tracked count as verified.
enum TollFreeVerificationSchema {
    static let migration = Migration(version: 26, name: "toll-free verification") { _ in
        [
            """
            ALTER TABLE phone_numbers ADD COLUMN verification TEXT NULL
                CHECK (verification IN ('pending', 'verified', 'rejected'))
            """,
            "ALTER TABLE phone_numbers ADD COLUMN verification_id TEXT NULL",
            "ALTER TABLE phone_numbers ADD COLUMN verification_message TEXT NULL",
            "ALTER TABLE phone_numbers ADD COLUMN verification_submitted_at BIGINT NULL",
            "ALTER TABLE phone_numbers ADD COLUMN request_id TEXT NULL REFERENCES number_requests(id)",
            "UPDATE phone_numbers SET verification = 'verified' WHERE kind = 'toll_free'",
            "ALTER TABLE number_requests ADD COLUMN verification TEXT NULL",
            """
            CREATE INDEX phone_numbers_verification_pending ON phone_numbers (verification_submitted_at)
                WHERE verification = 'pending'
            """,
        ]
    }
}
