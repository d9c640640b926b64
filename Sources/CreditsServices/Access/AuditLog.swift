import CreditsCore
import CreditsStore
import Foundation

/// Reading the audit log (view_logs): the API's list and CSV and the portal's page.
public struct AuditLog: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Most entries one read returns.
    public static var pageMax: Int { AuditStore.pageMax }

    /// The organisation's entries that match the filters, oldest first.
    public func entries(_ principal: Principal, _ query: AuditQuery) async throws -> [AuditEntry] {
        try principal.require(.viewLogs)
        return try await AuditStore.list(principal.organizationID, query, on: database)
    }
}
