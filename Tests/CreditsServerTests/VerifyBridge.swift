import CreditsStore

/// Runs `ledger verify` on a test server's database.
enum CreditsStoreVerify {
    static func violations(_ database: any Database) async throws -> [LedgerViolation] {
        try await LedgerVerifier(database: database).verify()
    }
}
