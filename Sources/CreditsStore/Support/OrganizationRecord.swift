import CreditsCore
import Foundation
import SQLKit

/// Creates the organisation row and its ledger accounts: the minimum the ledger needs.
/// (The organisations repository builds staff, keys and settings on top of this.)
public enum OrganizationRecord {
    /// Inserts an organisation with its pool and outside accounts; returns the pool's id.
    @discardableResult
    public static func insert(
        id: OrganizationID,
        name: String,
        country: Country,
        timeZone: String,
        at instant: Date,
        on sql: any SQLDatabase
    ) async throws -> AccountID {
        try await sql.raw(
            """
            INSERT INTO organizations (id, name, country, time_zone, created_at)
            VALUES (\(bind: id.rawValue), \(bind: name), \(bind: country.rawValue), \(bind: timeZone), \(bind: instant.milliseconds))
            """
        ).run()
        return try await SQLLedgerStore.createAccounts(for: id, at: instant, on: sql)
    }
}
