import CreditsCore
import Foundation
import SQLKit

/// One tally a sign-up on the opt-in page counts against: the hash of what is counted (a client
/// address, or an organisation's number), how many it allows, and over how long.
public struct OptInTallyKey: Sendable, Equatable {
    /// SHA-256 hex of what is counted.
    public var hash: String
    public var triesMax: Int
    public var window: TimeInterval

    public init(hash: String, triesMax: Int, window: TimeInterval) {
        precondition(hash.utf8.count == 64 && triesMax > 0 && window > 0, "a tally key is a hash with a limit")
        self.hash = hash
        self.triesMax = triesMax
        self.window = window
    }
}

/// Requests to be texted (the opt-in page, the JOIN keyword) waiting for their YES, and the
/// page's sign-up tallies. Both live in the database, so every server process sees the same.
public struct OptInStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// The columns of an opt-in, read from the table aliased `o` (names prefixed `o_`, so they can
    /// sit beside a consent event's).
    static let columns = """
        o.id AS o_id, o.organization_id AS o_organization_id, o.phone AS o_phone, o.name AS o_name,
        o.source AS o_source, o.address AS o_address, o.wording AS o_wording, o.message_id AS o_message_id,
        o.requested_at AS o_requested_at, o.expires_at AS o_expires_at, o.confirmed_at AS o_confirmed_at
        """

    /// The opt-in a row holds in `columns`, or nil when the row has none (a LEFT JOIN's miss).
    static func optInIfPresent(_ row: any SQLRow) throws -> OptIn? {
        guard let id: String = try row.optional("o_id") else { return nil }
        guard let source = OptInSource(rawValue: try row.value("o_source")) else {
            throw StoreError.unreadableRow("opt-in")
        }
        return OptIn(
            id: id,
            organizationID: OrganizationID(try row.value("o_organization_id")),
            phone: try row.value("o_phone"),
            name: try row.optional("o_name"),
            source: source,
            address: try row.value("o_address"),
            wording: try row.value("o_wording"),
            messageID: try row.optional("o_message_id"),
            requestedAt: try row.date("o_requested_at"),
            expiresAt: try row.date("o_expires_at"),
            confirmedAt: try row.optionalDate("o_confirmed_at")
        )
    }

    /// Counts a sign-up against every key in one transaction: either it counts everywhere and nil
    /// is returned, or some key is at its limit, it counts nowhere, and that key is returned. Each key is
    /// one conditional UPDATE (a fixed window that restarts once it has passed), so concurrent
    /// sign-ups on PostgreSQL queue on the row; SQLite's single writer already serialises them.
    public func countTry(_ keys: [OptInTallyKey], at instant: Date) async throws -> OptInTallyKey? {
        let keys = keys.sorted { $0.hash < $1.hash }
        let windowMax = keys.map(\.window).max() ?? 0
        do {
            try await database.transaction { sql in
                // Tallies whose window ended long ago say nothing any more.
                let stale = instant.addingTimeInterval(-windowMax).milliseconds
                try await sql.raw("DELETE FROM opt_in_tallies WHERE window_start < \(bind: stale)").run()
                for key in keys {
                    try await sql.raw(
                        """
                        INSERT INTO opt_in_tallies (key_hash, window_start, tries)
                        VALUES (\(bind: key.hash), \(bind: instant.milliseconds), 0)
                        ON CONFLICT (key_hash) DO NOTHING
                        """
                    ).run()
                    let restart = instant.addingTimeInterval(-key.window).milliseconds
                    let counted = try await sql.raw(
                        """
                        UPDATE opt_in_tallies SET
                            tries = CASE WHEN window_start <= \(bind: restart) THEN 1 ELSE tries + 1 END,
                            window_start = CASE WHEN window_start <= \(bind: restart) THEN \(bind: instant.milliseconds) ELSE window_start END
                        WHERE key_hash = \(bind: key.hash) AND (window_start <= \(bind: restart) OR tries < \(bind: key.triesMax))
                        RETURNING tries
                        """
                    ).first()
                    if counted == nil { throw AtLimit(key: key) }
                }
            }
            return nil
        } catch let limit as AtLimit {
            return limit.key
        }
    }

    /// Thrown inside `countTry` to roll back the keys already counted.
    private struct AtLimit: Error {
        let key: OptInTallyKey
    }

    /// The newest request of a number still waiting for its YES, if any.
    public func pending(organization: OrganizationID, phone: String, at instant: Date) async throws -> OptIn? {
        try await database.read { sql in
            try await OptInStore.pending(organization: organization, phone: phone, at: instant, on: sql)
        }
    }

    static func pending(organization: OrganizationID, phone: String, at instant: Date, on sql: any SQLDatabase)
        async throws -> OptIn?
    {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: columns) FROM opt_ins o
            WHERE o.organization_id = \(bind: organization.rawValue) AND o.phone = \(bind: phone)
              AND o.confirmed_at IS NULL AND o.expires_at > \(bind: instant.milliseconds)
            ORDER BY o.requested_at DESC, o.id DESC LIMIT 1
            """
        ).first().flatMap { try OptInStore.optInIfPresent($0) }
    }

    /// Keeps a request that was just sent its confirmation text.
    public func insert(_ optIn: OptIn) async throws {
        try await database.transaction { sql in try await OptInStore.insert(optIn, on: sql) }
    }

    /// Keeps a request in the caller's unit of work (JOIN, answered in the inbound text's).
    public static func insert(_ optIn: OptIn, in work: UnitOfWork) async throws {
        try await insert(optIn, on: work.sql)
    }

    static func insert(_ optIn: OptIn, on sql: any SQLDatabase) async throws {
        precondition(optIn.confirmedAt == nil && optIn.expiresAt > optIn.requestedAt, "a new request waits")
        try await sql.raw(
            """
            INSERT INTO opt_ins (id, organization_id, phone, name, source, address, wording, message_id,
                                 requested_at, expires_at)
            VALUES (\(bind: optIn.id), \(bind: optIn.organizationID.rawValue), \(bind: optIn.phone), \(bind: optIn.name),
                    \(bind: optIn.source.rawValue), \(bind: optIn.address), \(bind: optIn.wording), \(bind: optIn.messageID),
                    \(bind: optIn.requestedAt.milliseconds), \(bind: optIn.expiresAt.milliseconds))
            """
        ).run()
    }

    /// Confirms a number's waiting request in the caller's unit of work (the YES's): the newest
    /// one is returned, and every waiting request of the number is marked confirmed, so a second
    /// YES finds nothing. Nil when nothing was waiting.
    public static func confirm(
        organization: OrganizationID,
        phone: String,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> OptIn? {
        let sql = work.sql
        if work.dialect == .postgres {
            // Two YES texts at once: the second waits here and then finds nothing waiting.
            try await sql.raw(
                """
                SELECT id FROM opt_ins WHERE organization_id = \(bind: organization.rawValue) AND phone = \(bind: phone)
                  AND confirmed_at IS NULL FOR UPDATE
                """
            ).run()
        }
        guard var optIn = try await pending(organization: organization, phone: phone, at: instant, on: sql) else {
            return nil
        }
        try await sql.raw(
            """
            UPDATE opt_ins SET confirmed_at = \(bind: instant.milliseconds)
            WHERE organization_id = \(bind: organization.rawValue) AND phone = \(bind: phone)
              AND confirmed_at IS NULL AND expires_at > \(bind: instant.milliseconds)
            """
        ).run()
        optIn.confirmedAt = instant
        return optIn
    }

    /// Adds a contact in the caller's unit of work unless the organisation already has one with
    /// its number (whose name and groups staff may have set: they are kept). True when added.
    public static func addContactIfAbsent(_ contact: Contact, in work: UnitOfWork) async throws -> Bool {
        let existing = try await work.sql.raw(
            """
            SELECT id FROM contacts WHERE organization_id = \(bind: contact.organizationID.rawValue)
              AND phone = \(bind: contact.phone) AND deleted_at IS NULL
            """
        ).first()
        guard existing == nil else { return false }
        try await ContactStore.insert(contact, on: work.sql)
        return true
    }
}
