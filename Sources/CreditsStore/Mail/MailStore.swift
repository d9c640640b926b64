import CreditsCore
import Foundation
import SQLKit

/// What a mail is about.
public enum MailKind: String, Sendable, Codable {
    /// A staff member's balance fell below their alert.
    case lowBalance = "low_balance"
    /// Monthly auto-renew will buy more this month.
    case autoRenewNotice = "auto_renew_notice"
    /// A link to choose a new password. It is for its addressee alone: it is never listed to the
    /// organisation (an admin reading the owner's link could take over the owner).
    case passwordReset = "password_reset"
    /// A webhook endpoint was turned off after failing for days.
    case webhookDisabled = "webhook_disabled"
}

/// Where a mail stands.
public enum MailStatus: String, Sendable, Codable {
    /// Kept in the Outbox (no mail server is configured).
    case stored
    /// Waiting for the mail server.
    case queued
    /// Handed to the mail server.
    case sent
    /// Refused by the mail server for good.
    case failed
}

/// A mail the server sends (or, with the Outbox, keeps for people to read).
public struct Mail: Sendable, Equatable, Encodable {
    public var id: String
    public var organizationID: OrganizationID?
    public var kind: MailKind
    public var to: String
    public var subject: String
    public var body: String
    public var status: MailStatus
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, kind, to, subject, body, status
        case organizationID = "organization_id"
        case createdAt = "created_at"
    }

    public init(
        id: String,
        organizationID: OrganizationID?,
        kind: MailKind,
        to: String,
        subject: String,
        body: String,
        status: MailStatus,
        createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.kind = kind
        self.to = to
        self.subject = subject
        self.body = body
        self.status = status
        self.createdAt = createdAt
    }
}

/// The mail outbox and the low-balance alert record.
public struct MailStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Keeps a low-balance mail for `staffID` unless one was already kept on `day`; true when
    /// this call recorded it (the day's one alert).
    public func recordLowBalanceAlert(_ mail: Mail, staffID: String, day: String) async throws -> Bool {
        try await database.transaction { sql in
            let claimed = try await sql.raw(
                """
                INSERT INTO low_balance_alerts (staff_id, day, mail_id, created_at)
                VALUES (\(bind: staffID), \(bind: day), \(bind: mail.id), \(bind: mail.createdAt.milliseconds))
                ON CONFLICT (staff_id, day) DO NOTHING
                RETURNING staff_id
                """
            ).all()
            guard !claimed.isEmpty else { return false }
            try await MailStore.insert(mail, on: sql)
            return true
        }
    }

    static func insert(_ mail: Mail, on sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            INSERT INTO mail_outbox (id, organization_id, kind, to_address, subject, body, status, created_at)
            VALUES (\(bind: mail.id), \(bind: mail.organizationID?.rawValue), \(bind: mail.kind.rawValue), \(bind: mail.to), \(bind: mail.subject),
                    \(bind: mail.body), \(bind: mail.status.rawValue), \(bind: mail.createdAt.milliseconds))
            """
        ).run()
    }

    /// Mail waiting for the mail server, oldest first.
    public func queued(limit: Int) async throws -> [Mail] {
        try await database.read { sql in
            try await sql.raw(
                "SELECT * FROM mail_outbox WHERE status = 'queued' ORDER BY created_at LIMIT \(bind: max(1, min(limit, 500)))"
            )
            .all().map(MailStore.mail)
        }
    }

    /// Records the mail server's answer: `sent`, or `failed` for good with the reason.
    public func delivered(_ id: String, sent: Bool, error: String?, at instant: Date) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE mail_outbox SET status = \(bind: sent ? "sent" : "failed"), sent_at = \(bind: sent ? instant.milliseconds : nil),
                    error = \(bind: error) WHERE id = \(bind: id) AND status = 'queued'
                """
            ).run()
        }
    }

    /// An organisation's mail, newest first, without password-reset links (each is for its
    /// addressee alone).
    public func mail(of organization: OrganizationID, after cursor: RecencyCursor?, limit: Int) async throws -> [Mail] {
        try await database.read { sql in
            var query: SQLQueryString = """
                SELECT * FROM mail_outbox WHERE organization_id = \(bind: organization.rawValue)
                AND kind <> \(bind: MailKind.passwordReset.rawValue)
                """
            if let cursor { query += cursor.condition(instant: "created_at", id: "id") }
            query += " ORDER BY created_at DESC, id DESC LIMIT \(bind: max(1, min(limit, 500)))"
            return try await sql.raw(query).all().map(MailStore.mail)
        }
    }

    /// The newest mail to an address, for the operator reading the Outbox on the server.
    public func mail(to address: String, limit: Int) async throws -> [Mail] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM mail_outbox WHERE to_address = \(bind: address.lowercased())
                ORDER BY created_at DESC, id DESC LIMIT \(bind: max(1, min(limit, 500)))
                """
            ).all().map(MailStore.mail)
        }
    }

    static func mail(_ row: any SQLRow) throws -> Mail {
        guard let kind = MailKind(rawValue: try row.value("kind")),
            let status = MailStatus(rawValue: try row.value("status"))
        else {
            throw StoreError.unreadableRow("mail")
        }
        return Mail(
            id: try row.value("id"),
            organizationID: try row.optional("organization_id", as: String.self).map(OrganizationID.init),
            kind: kind,
            to: try row.value("to_address"),
            subject: try row.value("subject"),
            body: try row.value("body"),
            status: status,
            createdAt: Date(milliseconds: try row.value("created_at"))
        )
    }
}
