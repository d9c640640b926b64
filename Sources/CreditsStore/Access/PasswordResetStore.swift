import CreditsCore
import Foundation
import SQLKit

/// Password reset links: a hash of each token, whose it is, until when it works and whether it
/// was used.
public struct PasswordResetStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Keeps a new link and its mail in one transaction, unless the staff member already asked
    /// for `limit` links since `since`; true when it was kept.
    public func create(
        tokenHash: String,
        staff: StaffMember,
        at instant: Date,
        expiresAt: Date,
        mail: Mail,
        limit: Int,
        since: Date
    ) async throws -> Bool {
        try await database.transaction { sql in
            // Requests for one person wait for each other, so the count below cannot be raced past.
            let lock = sql.storeDialect == .postgres ? " FOR UPDATE" : ""
            try await sql.raw("SELECT id FROM staff WHERE id = \(bind: staff.id)\(unsafeRaw: lock)").run()
            let recent =
                try await sql.raw(
                    """
                    SELECT COUNT(*) AS n FROM password_resets
                    WHERE staff_id = \(bind: staff.id) AND created_at > \(bind: since.milliseconds)
                    """
                ).first().map { try $0.decode(column: "n", as: Int.self) } ?? 0
            guard recent < limit else { return false }
            try await sql.raw(
                """
                INSERT INTO password_resets (token_hash, organization_id, staff_id, created_at, expires_at)
                VALUES (\(bind: tokenHash), \(bind: staff.organizationID.rawValue), \(bind: staff.id),
                        \(bind: instant.milliseconds), \(bind: expiresAt.milliseconds))
                """
            ).run()
            try await MailStore.insert(mail, on: sql)
            return true
        }
    }

    /// Whose the link is, while it is unused and unexpired.
    public func holder(_ tokenHash: String, at instant: Date) async throws -> (
        staffID: String, organization: OrganizationID
    )? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT staff_id, organization_id FROM password_resets
                WHERE token_hash = \(bind: tokenHash) AND used_at IS NULL AND expires_at > \(bind: instant.milliseconds)
                """
            ).first().map {
                (
                    try $0.decode(column: "staff_id", as: String.self),
                    OrganizationID(try $0.decode(column: "organization_id", as: String.self))
                )
            }
        }
    }

    /// Uses the link: sets the new password hash, ends the person's sessions and every other
    /// link they asked for, and writes the audit entry, in one transaction. Nil (and nothing
    /// changed) when the link is unknown, used or expired.
    public func redeem(
        _ tokenHash: String,
        passwordHash: String,
        at instant: Date,
        audit: @Sendable (StaffMember) -> AuditRecord
    ) async throws -> StaffMember? {
        try await database.transaction { sql in
            guard
                let row = try await sql.raw(
                    """
                    UPDATE password_resets SET used_at = \(bind: instant.milliseconds)
                    WHERE token_hash = \(bind: tokenHash) AND used_at IS NULL AND expires_at > \(bind: instant.milliseconds)
                    RETURNING staff_id, organization_id
                    """
                ).first()
            else { return nil }
            let staffID = try row.decode(column: "staff_id", as: String.self)
            let organization = OrganizationID(try row.decode(column: "organization_id", as: String.self))
            guard let staff = try await OrganizationStore.staffMember(staffID, of: organization, on: sql) else {
                return nil
            }
            try await sql.raw(
                "UPDATE staff SET password_hash = \(bind: passwordHash) WHERE id = \(bind: staffID) AND deleted_at IS NULL"
            ).run()
            try await sql.raw(
                """
                UPDATE password_resets SET used_at = \(bind: instant.milliseconds)
                WHERE staff_id = \(bind: staffID) AND used_at IS NULL
                """
            ).run()
            try await sql.raw("DELETE FROM web_sessions WHERE staff_id = \(bind: staffID)").run()
            try await AuditStore.insert([audit(staff)], on: sql)
            return staff
        }
    }
}
