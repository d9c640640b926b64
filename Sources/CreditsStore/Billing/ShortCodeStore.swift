import CreditsCore
import Foundation
import SQLKit

/// An organisation's keyword on the shared short code.
public struct ShortCodeKeywordRecord: Sendable, Equatable {
    public var keyword: String
    public var organizationID: OrganizationID
    public var createdAt: Date
    /// When a stopped keyword stops working (the end of the month paid for); nil while it runs.
    public var endsAt: Date?
}

/// A claim that lost a race for its keyword (undoes the claim's transaction).
struct KeywordTaken: Error {}

/// Keywords on the shared short code: one per organisation, each held by one organisation.
public struct ShortCodeStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    static func record(_ row: any SQLRow) throws -> ShortCodeKeywordRecord {
        ShortCodeKeywordRecord(
            keyword: try row.value("keyword"),
            organizationID: OrganizationID(try row.value("organization_id")),
            createdAt: try row.date("created_at"),
            endsAt: try row.optionalDate("ends_at")
        )
    }

    /// The organisation's keyword, running or stopped.
    public func keyword(of organization: OrganizationID) async throws -> ShortCodeKeywordRecord? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT keyword, organization_id, created_at, ends_at FROM short_code_keywords
                WHERE organization_id = \(bind: organization.rawValue)
                """
            ).first().map(ShortCodeStore.record)
        }
    }

    /// The organisation holding a keyword that works at `instant`.
    public func organization(forKeyword keyword: String, at instant: Date) async throws -> OrganizationID? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT organization_id FROM short_code_keywords WHERE keyword = \(bind: keyword)
                  AND (ends_at IS NULL OR ends_at > \(bind: instant.milliseconds))
                """
            ).first().map { OrganizationID(try $0.value("organization_id")) }
        }
    }

    /// The organisation a person last texted on the short code (by keyword), whose keyword
    /// still works: where a text to the short code without a keyword goes (a YES, a STOP).
    public func lastOrganization(texting phone: String, shortCode: String, at instant: Date) async throws
        -> OrganizationID?
    {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT v.organization_id FROM conversations v
                JOIN short_code_keywords k ON k.organization_id = v.organization_id
                WHERE v.phone = \(bind: phone) AND v.number = \(bind: shortCode)
                  AND (k.ends_at IS NULL OR k.ends_at > \(bind: instant.milliseconds))
                ORDER BY v.last_message_at DESC, v.id DESC LIMIT 1
                """
            ).first().map { OrganizationID(try $0.value("organization_id")) }
        }
    }

    /// Claims a keyword for an organisation (replacing its own, running again if stopped);
    /// false when another organisation holds it.
    public func claim(_ keyword: String, for organization: OrganizationID, at instant: Date, audit: AuditRecord)
        async throws -> Bool
    {
        do {
            return try await database.transaction { sql in
                if let holder = try await sql.raw(
                    "SELECT organization_id FROM short_code_keywords WHERE keyword = \(bind: keyword)"
                ).first(), try holder.decode(column: "organization_id", as: String.self) != organization.rawValue {
                    return false
                }
                try await sql.raw(
                    "DELETE FROM short_code_keywords WHERE organization_id = \(bind: organization.rawValue)"
                ).run()
                // Two organisations claiming the same keyword at once: the second waits for the
                // first and inserts nothing, and its whole claim is undone.
                let inserted = try await sql.raw(
                    """
                    INSERT INTO short_code_keywords (keyword, organization_id, created_at, ends_at)
                    VALUES (\(bind: keyword), \(bind: organization.rawValue), \(bind: instant.milliseconds), NULL)
                    ON CONFLICT (keyword) DO NOTHING RETURNING keyword
                    """
                ).all()
                guard !inserted.isEmpty else { throw KeywordTaken() }
                try await AuditStore.insert([audit], on: sql)
                return true
            }
        } catch is KeywordTaken {
            return false
        }
    }

    /// Stops an organisation's keyword at `endsAt` (the end of the month paid for).
    public func stop(_ organization: OrganizationID, endsAt: Date, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE short_code_keywords SET ends_at = \(bind: endsAt.milliseconds)
                WHERE organization_id = \(bind: organization.rawValue) AND ends_at IS NULL
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// Forgets an organisation's keyword (a claim that was not paid for, or one long stopped).
    public func release(_ organization: OrganizationID) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                "DELETE FROM short_code_keywords WHERE organization_id = \(bind: organization.rawValue)"
            ).run()
        }
    }

    /// Every keyword: running ones and stopped ones (to forget once they ended).
    public func all() async throws -> [ShortCodeKeywordRecord] {
        try await database.read { sql in
            try await sql.raw(
                "SELECT keyword, organization_id, created_at, ends_at FROM short_code_keywords ORDER BY keyword"
            ).all().map(ShortCodeStore.record)
        }
    }
}
