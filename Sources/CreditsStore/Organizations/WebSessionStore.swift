import CreditsCore
import Foundation
import SQLKit

/// A signed-in staff member's web session, as stored (the token itself is only in the cookie).
public struct WebSessionRecord: Sendable, Equatable {
    public var tokenHash: String
    public var organizationID: OrganizationID
    public var staffID: String
    /// Sent back with every form and script request; a request without it changes nothing.
    public var csrfToken: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(
        tokenHash: String,
        organizationID: OrganizationID,
        staffID: String,
        csrfToken: String,
        createdAt: Date,
        expiresAt: Date
    ) {
        self.tokenHash = tokenHash
        self.organizationID = organizationID
        self.staffID = staffID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Web sessions: created at sign-in, found on every page, deleted at sign-out or expiry.
public struct WebSessionStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Stores a new session.
    public func create(_ session: WebSessionRecord) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO web_sessions (token_hash, organization_id, staff_id, csrf_token, created_at, expires_at)
                VALUES (\(bind: session.tokenHash), \(bind: session.organizationID.rawValue), \(bind: session.staffID), \(bind: session.csrfToken),
                        \(bind: session.createdAt.milliseconds), \(bind: session.expiresAt.milliseconds))
                """
            ).run()
        }
    }

    /// The session with this token hash, unless it has expired.
    public func session(_ tokenHash: String, at instant: Date) async throws -> WebSessionRecord? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM web_sessions WHERE token_hash = \(bind: tokenHash) AND expires_at > \(bind: instant.milliseconds)
                """
            ).first().map { row in
                WebSessionRecord(
                    tokenHash: try row.value("token_hash"),
                    organizationID: OrganizationID(try row.value("organization_id")),
                    staffID: try row.value("staff_id"),
                    csrfToken: try row.value("csrf_token"),
                    createdAt: Date(milliseconds: try row.value("created_at")),
                    expiresAt: Date(milliseconds: try row.value("expires_at"))
                )
            }
        }
    }

    /// Marks that this session was shown the credits pop-up; true only the first time, so of
    /// two pages loaded at once exactly one shows it (one conditional UPDATE).
    public func claimCreditAlert(_ tokenHash: String, at instant: Date) async throws -> Bool {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE web_sessions SET credit_alert_shown_at = \(bind: instant.milliseconds)
                WHERE token_hash = \(bind: tokenHash) AND credit_alert_shown_at IS NULL RETURNING token_hash
                """
            ).first() != nil
        }
    }

    /// Ends a session (sign-out).
    public func delete(_ tokenHash: String) async throws {
        try await database.transaction { sql in
            try await sql.raw("DELETE FROM web_sessions WHERE token_hash = \(bind: tokenHash)").run()
        }
    }

    /// Ends every session of a staff member (their password changed); returns how many.
    public func deleteSessions(ofStaff staffID: String) async throws -> Int {
        try await database.transaction { sql in
            try await sql.raw("DELETE FROM web_sessions WHERE staff_id = \(bind: staffID) RETURNING token_hash").all()
                .count
        }
    }

    /// Forgets sessions that expired before `instant`; returns how many.
    public func deleteExpired(before instant: Date) async throws -> Int {
        try await database.transaction { sql in
            try await sql.raw(
                "DELETE FROM web_sessions WHERE expires_at <= \(bind: instant.milliseconds) RETURNING token_hash"
            ).all().count
        }
    }
}
