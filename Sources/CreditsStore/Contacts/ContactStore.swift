import CreditsCore
import Foundation
import SQLKit

/// Contacts, their groups, and consent by phone number (opt-outs outlive deleted contacts).
public struct ContactStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Most contacts one page returns.
    public static let pageMax = 1000

    static let selectContacts = """
        SELECT c.id, c.organization_id, c.name, c.first_name, c.phone, c.email, c.fields, c.created_at, c.updated_at,
               s.state AS consent, s.changed_at AS consent_changed_at
        FROM contacts c LEFT JOIN consents s ON s.organization_id = c.organization_id AND s.phone = c.phone
        """

    /// Adds a contact, its groups and (optionally) its first consent, in one transaction.
    /// Throws `StoreError.conflict` when the organisation already has a contact with that phone.
    public func create(
        _ contact: Contact,
        consent: (state: ConsentState, actor: String, source: ConsentSource, basis: String?)?,
        audit: AuditRecord
    ) async throws -> Contact {
        try await database.transaction { sql in
            try await ContactStore.insert(contact, on: sql)
            if let consent {
                try await ContactStore.recordConsent(
                    organization: contact.organizationID,
                    phone: contact.phone,
                    state: consent.state,
                    source: consent.source,
                    rawText: nil,
                    basis: consent.basis,
                    actor: consent.actor,
                    at: contact.createdAt,
                    on: sql
                )
            }
            try await AuditStore.insert([audit], on: sql)
            return try await ContactStore.contact(contact.id, of: contact.organizationID, on: sql) ?? contact
        }
    }

    /// Inserts a contact with its groups; throws `StoreError.conflict` when the organisation
    /// already has a contact with that phone.
    static func insert(_ contact: Contact, on sql: any SQLDatabase) async throws {
        let existing = try await sql.raw(
            """
            SELECT id FROM contacts WHERE organization_id = \(bind: contact.organizationID.rawValue) AND phone = \(bind: contact.phone)
            AND deleted_at IS NULL
            """
        ).first()
        if existing != nil { throw StoreError.conflict("a contact with phone \(contact.phone) already exists") }
        try await sql.raw(
            """
            INSERT INTO contacts (id, organization_id, name, first_name, phone, email, fields, created_at, updated_at)
            VALUES (\(bind: contact.id), \(bind: contact.organizationID.rawValue), \(bind: contact.name), \(bind: contact.firstName),
                    \(bind: contact.phone), \(bind: contact.email), \(bind: ContactStore.fieldsText(contact.fields)),
                    \(bind: contact.createdAt.milliseconds), \(bind: contact.updatedAt.milliseconds))
            """
        ).run()
        try await ContactStore.setGroups(
            contact.groups,
            of: contact.id,
            organization: contact.organizationID,
            at: contact.createdAt,
            on: sql
        )
    }

    /// Saves a contact's fields and groups.
    public func update(_ contact: Contact, audit: AuditRecord) async throws -> Contact {
        try await database.transaction { sql in
            let clash = try await sql.raw(
                """
                SELECT id FROM contacts WHERE organization_id = \(bind: contact.organizationID.rawValue) AND phone = \(bind: contact.phone)
                AND deleted_at IS NULL AND id <> \(bind: contact.id)
                """
            ).first()
            if clash != nil { throw StoreError.conflict("a contact with phone \(contact.phone) already exists") }
            try await sql.raw(
                """
                UPDATE contacts SET name = \(bind: contact.name), first_name = \(bind: contact.firstName), phone = \(bind: contact.phone),
                    email = \(bind: contact.email), fields = \(bind: ContactStore.fieldsText(contact.fields)),
                    updated_at = \(bind: contact.updatedAt.milliseconds)
                WHERE id = \(bind: contact.id) AND organization_id = \(bind: contact.organizationID.rawValue) AND deleted_at IS NULL
                """
            ).run()
            try await ContactStore.setGroups(
                contact.groups,
                of: contact.id,
                organization: contact.organizationID,
                at: contact.updatedAt,
                on: sql
            )
            try await AuditStore.insert([audit], on: sql)
            return try await ContactStore.contact(contact.id, of: contact.organizationID, on: sql) ?? contact
        }
    }

    /// Deletes a contact (its consent record stays, so an opt-out is never forgotten).
    public func delete(_ id: String, of organization: OrganizationID, at instant: Date, audit: AuditRecord) async throws
    {
        try await database.transaction { sql in
            try await sql.raw("DELETE FROM contact_group_members WHERE contact_id = \(bind: id)").run()
            try await sql.raw(
                """
                UPDATE contacts SET deleted_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue) AND deleted_at IS NULL
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// One contact of an organisation.
    public func contact(_ id: String, of organization: OrganizationID) async throws -> Contact? {
        try await database.read { sql in try await ContactStore.contact(id, of: organization, on: sql) }
    }

    static func contact(_ id: String, of organization: OrganizationID, on sql: any SQLDatabase) async throws -> Contact?
    {
        let rows = try await sql.raw(
            """
            \(unsafeRaw: selectContacts) WHERE c.id = \(bind: id) AND c.organization_id = \(bind: organization.rawValue) AND c.deleted_at IS NULL
            """
        ).all()
        return try await withGroups(rows, on: sql).first
    }

    /// The organisation's contact with this phone, if any.
    public func contact(phone: String, of organization: OrganizationID) async throws -> Contact? {
        try await database.read { sql in
            let rows = try await sql.raw(
                """
                \(unsafeRaw: ContactStore.selectContacts)
                WHERE c.phone = \(bind: phone) AND c.organization_id = \(bind: organization.rawValue) AND c.deleted_at IS NULL
                """
            ).all()
            return try await ContactStore.withGroups(rows, on: sql).first
        }
    }

    /// A page of contacts, in creation order after the cursor.
    public func list(_ organization: OrganizationID, _ query: ContactQuery) async throws -> [Contact] {
        try await database.read { sql in
            var text: SQLQueryString =
                "\(unsafeRaw: ContactStore.selectContacts) WHERE c.organization_id = \(bind: organization.rawValue) AND c.deleted_at IS NULL"
            if let group = query.group {
                text += """
                     AND c.id IN (SELECT m.contact_id FROM contact_group_members m JOIN contact_groups g ON g.id = m.group_id
                                 WHERE g.organization_id = \(bind: organization.rawValue) AND g.name = \(bind: group))
                    """
            }
            if let consent = query.consent {
                if consent == .pending {
                    text += " AND s.state IS NULL"
                } else {
                    text += " AND s.state = \(bind: consent.rawValue)"
                }
            }
            if let phone = query.phone { text += " AND c.phone = \(bind: phone)" }
            if let search = query.search?.lowercased(), !search.isEmpty {
                let pattern = "%" + SQLLike.escaped(search) + "%"
                // A number is found however it is typed: "(415) 555-26" looks for the digits 41555526.
                let digits = search.filter(\.isASCII).filter(\.isNumber)
                let phonePattern =
                    digits.count >= 3 && search.allSatisfy({ "0123456789+()-. ".contains($0) })
                    ? "%" + digits + "%" : pattern
                text += """
                     AND (lower(c.name) LIKE \(bind: pattern) ESCAPE '\\' OR lower(c.email) LIKE \(bind: pattern) ESCAPE '\\'
                          OR c.phone LIKE \(bind: phonePattern) ESCAPE '\\')
                    """
            }
            if let afterID = query.afterID { text += " AND c.id > \(bind: afterID)" }
            text += " ORDER BY c.id LIMIT \(bind: max(1, min(query.limit, ContactStore.pageMax)))"
            return try await ContactStore.withGroups(try await sql.raw(text).all(), on: sql)
        }
    }

    /// A contact row (without its groups), with its consent when the query joined it.
    static func contact(_ row: any SQLRow) throws -> Contact {
        let fieldsText: String = try row.value("fields")
        let fields =
            fieldsText == "{}"
            ? [:] : (try? JSONDecoder().decode([String: String].self, from: Data(fieldsText.utf8))) ?? [:]
        return Contact(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            name: try row.value("name"),
            firstName: try row.value("first_name"),
            phone: try row.value("phone"),
            email: try row.optional("email"),
            groups: [],
            fields: fields,
            consent: try row.optional("consent", as: String.self).flatMap(ConsentState.init(rawValue:)) ?? .pending,
            consentChangedAt: try row.optionalDate("consent_changed_at"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at")
        )
    }

    static func withGroups(_ rows: [any SQLRow], on sql: any SQLDatabase) async throws -> [Contact] {
        var contacts = try rows.map(ContactStore.contact)
        guard !contacts.isEmpty else { return [] }
        var groups: [String: [String]] = [:]
        for row in try await sql.raw(
            """
            SELECT m.contact_id, g.name FROM contact_group_members m JOIN contact_groups g ON g.id = m.group_id
            WHERE \(contacts.map(\.id).sqlMembership("m.contact_id", for: sql)) ORDER BY g.name
            """
        ).all() {
            groups[try row.value("contact_id"), default: []].append(try row.value("name"))
        }
        for index in contacts.indices { contacts[index].groups = groups[contacts[index].id] ?? [] }
        return contacts
    }

    static func fieldsText(_ fields: [String: String]) -> String {
        String(decoding: (try? OrganizationStore.jsonEncoder.encode(fields)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Replaces a contact's group memberships, creating groups by name as needed.
    static func setGroups(
        _ names: [String],
        of contact: String,
        organization: OrganizationID,
        at instant: Date,
        on sql: any SQLDatabase
    ) async throws {
        try await sql.raw("DELETE FROM contact_group_members WHERE contact_id = \(bind: contact)").run()
        for name in Set(names) {
            var groupID = try await sql.raw(
                """
                SELECT id FROM contact_groups WHERE organization_id = \(bind: organization.rawValue) AND name = \(bind: name)
                """
            ).first().map { try $0.value("id", as: String.self) }
            if groupID == nil {
                let id = Identifier.make("grp_")
                try await sql.raw(
                    """
                    INSERT INTO contact_groups (id, organization_id, name, created_at)
                    VALUES (\(bind: id), \(bind: organization.rawValue), \(bind: name), \(bind: instant.milliseconds))
                    """
                ).run()
                groupID = id
            }
            try await sql.raw(
                "INSERT INTO contact_group_members (group_id, contact_id) VALUES (\(bind: groupID), \(bind: contact))"
            ).run()
        }
    }

    /// The organisation's groups with their member counts, by name.
    public func groups(of organization: OrganizationID, afterName cursor: String? = nil, limit: Int = 1000)
        async throws -> [ContactGroup]
    {
        try await database.read { sql in
            var query: SQLQueryString = """
                \(unsafeRaw: ContactStore.selectGroups) WHERE g.organization_id = \(bind: organization.rawValue)
                """
            if let cursor { query += " AND g.name > \(bind: cursor)" }
            query += " ORDER BY g.name LIMIT \(bind: max(1, min(limit, 1000)))"
            return try await sql.raw(query).all().map(ContactStore.groupRow)
        }
    }

    /// The names of an organisation's groups, in order, without counting their members (a page
    /// that only offers them as choices need not count 100,000 memberships).
    public func groupNames(of organization: OrganizationID, limit: Int = 1000) async throws -> [String] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT name FROM contact_groups WHERE organization_id = \(bind: organization.rawValue)
                ORDER BY name LIMIT \(bind: max(1, min(limit, 1000)))
                """
            ).all().map { try $0.value("name") }
        }
    }

    /// One group of an organisation.
    public func group(_ id: String, of organization: OrganizationID) async throws -> ContactGroup? {
        try await database.read { sql in
            try await ContactStore.group(id, of: organization, on: sql)
        }
    }

    static func group(_ id: String, of organization: OrganizationID, on sql: any SQLDatabase) async throws
        -> ContactGroup?
    {
        try await sql.raw(
            """
            \(unsafeRaw: ContactStore.selectGroups) WHERE g.organization_id = \(bind: organization.rawValue) AND g.id = \(bind: id)
            """
        ).first().map(ContactStore.groupRow)
    }

    static let selectGroups = """
        SELECT g.id, g.name,
               (SELECT COUNT(*) FROM contact_group_members m JOIN contacts c ON c.id = m.contact_id
                WHERE m.group_id = g.id AND c.deleted_at IS NULL) AS contacts,
               (SELECT COUNT(*) FROM contact_group_members m JOIN contacts c ON c.id = m.contact_id
                JOIN consents s ON s.organization_id = c.organization_id AND s.phone = c.phone
                WHERE m.group_id = g.id AND c.deleted_at IS NULL AND s.state = 'opted_in') AS opted_in
        FROM contact_groups g
        """

    static func groupRow(_ row: any SQLRow) throws -> ContactGroup {
        ContactGroup(
            id: try row.value("id"),
            name: try row.value("name"),
            contacts: try row.value("contacts"),
            optedIn: try row.value("opted_in")
        )
    }

    /// Adds an empty group. Throws `StoreError.conflict` when the name is taken.
    public func createGroup(
        _ id: String,
        named name: String,
        of organization: OrganizationID,
        at instant: Date,
        audit: AuditRecord
    ) async throws -> ContactGroup {
        try await database.transaction { sql in
            // Two people creating the same name at once: the second finds it taken, not a server error.
            let inserted = try await sql.raw(
                """
                INSERT INTO contact_groups (id, organization_id, name, created_at)
                VALUES (\(bind: id), \(bind: organization.rawValue), \(bind: name), \(bind: instant.milliseconds))
                ON CONFLICT (organization_id, name) DO NOTHING RETURNING id
                """
            ).all()
            if inserted.isEmpty { throw StoreError.conflict("a group named \(name) already exists") }
            try await AuditStore.insert([audit], on: sql)
            return ContactGroup(id: id, name: name, contacts: 0, optedIn: 0)
        }
    }

    /// Renames a group (its members stay). Throws `StoreError.conflict` when the name is taken and
    /// `StoreError.notFound` when the organisation has no such group.
    public func renameGroup(_ id: String, to name: String, of organization: OrganizationID, audit: AuditRecord)
        async throws -> ContactGroup
    {
        try await database.transaction { sql in
            guard try await ContactStore.group(id, of: organization, on: sql) != nil else {
                throw StoreError.notFound("Group \(id)")
            }
            try await ContactStore.refuseTakenName(name, of: organization, except: id, on: sql)
            try await sql.raw(
                """
                UPDATE contact_groups SET name = \(bind: name)
                WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
            guard let renamed = try await ContactStore.group(id, of: organization, on: sql) else {
                throw StoreError.notFound("Group \(id)")
            }
            return renamed
        }
    }

    /// Deletes a group; its contacts stay, without it. Throws `StoreError.notFound` when the
    /// organisation has no such group.
    public func deleteGroup(_ id: String, of organization: OrganizationID, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            guard try await ContactStore.group(id, of: organization, on: sql) != nil else {
                throw StoreError.notFound("Group \(id)")
            }
            try await sql.raw("DELETE FROM contact_group_members WHERE group_id = \(bind: id)").run()
            try await sql.raw(
                "DELETE FROM contact_groups WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)"
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    static func refuseTakenName(
        _ name: String,
        of organization: OrganizationID,
        except id: String?,
        on sql: any SQLDatabase
    )
        async throws
    {
        let taken = try await sql.raw(
            """
            SELECT id FROM contact_groups WHERE organization_id = \(bind: organization.rawValue) AND name = \(bind: name)
            """
        ).first().map { try $0.value("id", as: String.self) }
        if let taken, taken != id { throw StoreError.conflict("a group named \(name) already exists") }
    }

    // MARK: Consent

    /// Records a consent change for a phone (with its event) in the caller's unit of work.
    public static func recordConsent(
        organization: OrganizationID,
        phone: String,
        state: ConsentState,
        source: ConsentSource,
        rawText: String?,
        optIn: String? = nil,
        actor: String,
        at instant: Date,
        in work: UnitOfWork
    ) async throws {
        try await recordConsent(
            organization: organization,
            phone: phone,
            state: state,
            source: source,
            rawText: rawText,
            basis: nil,
            optIn: optIn,
            actor: actor,
            at: instant,
            on: work.sql
        )
    }

    /// `rawText` is what the recipient texted; `basis` is how staff say consent was given ("signed
    /// the enrolment form"); `optIn` is the opt-in request (page or JOIN) a YES confirmed.
    static func recordConsent(
        organization: OrganizationID,
        phone: String,
        state: ConsentState,
        source: ConsentSource,
        rawText: String?,
        basis: String?,
        optIn: String? = nil,
        actor: String,
        at instant: Date,
        on sql: any SQLDatabase
    ) async throws {
        precondition(state != .pending, "consent changes to opted in or opted out")
        if state == .optedIn, !source.isRecipient,
            try await !optedOutByRecipient(organization: organization, phones: [phone], on: sql).isEmpty
        {
            throw StoreError.optedOutByRecipient(phone: phone)
        }
        try await sql.raw(
            """
            INSERT INTO consents (organization_id, phone, state, changed_at)
            VALUES (\(bind: organization.rawValue), \(bind: phone), \(bind: state.rawValue), \(bind: instant.milliseconds))
            ON CONFLICT (organization_id, phone) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at
            """
        ).run()
        try await sql.raw(
            """
            INSERT INTO consent_events (organization_id, phone, state, source, raw_text, basis, opt_in_id, actor, created_at)
            VALUES (\(bind: organization.rawValue), \(bind: phone), \(bind: state.rawValue), \(bind: source.rawValue),
                    \(bind: rawText), \(bind: basis), \(bind: optIn), \(bind: actor), \(bind: instant.milliseconds))
            """
        ).run()
        try await tellConsent(
            organization: organization,
            phones: [phone],
            state: state,
            source: source,
            at: instant,
            on: sql
        )
    }

    /// Writes `contact.opted_in` / `contact.opted_out` for the organisation's endpoints that want it,
    /// in the transaction of the change.
    static func tellConsent(
        organization: OrganizationID,
        phones: [String],
        state: ConsentState,
        source: ConsentSource,
        at instant: Date,
        on sql: any SQLDatabase
    ) async throws {
        guard state != .pending, !phones.isEmpty else { return }
        try await WebhookStore.emit(for: [organization], on: sql) {
            try phones.map { phone in
                try WebhookEvent(
                    id: Identifier.make("evt_"),
                    organization: organization,
                    type: state == .optedIn ? .contactOptedIn : .contactOptedOut,
                    at: instant,
                    data: ConsentEventData(
                        phone: phone,
                        consent: state.rawValue,
                        source: source.rawValue,
                        byRecipient: source.isRecipient
                    )
                )
            }
        }
    }

    /// The numbers among `phones` whose last consent change was the recipient's own opt-out (a
    /// STOP they texted): only the recipient can undo it, so an opt-in from anyone else is refused.
    public func optedOutByRecipient(organization: OrganizationID, phones: [String]) async throws -> Set<String> {
        try await database.read { sql in
            try await ContactStore.optedOutByRecipient(organization: organization, phones: phones, on: sql)
        }
    }

    static func optedOutByRecipient(organization: OrganizationID, phones: [String], on sql: any SQLDatabase)
        async throws -> Set<String>
    {
        var found = Set<String>()
        let recipientSources = ConsentSource.allCases.filter(\.isRecipient).map(\.rawValue)
        for chunk in Array(Set(phones)).inListChunks {
            for row in try await sql.raw(
                """
                SELECT e.phone FROM consent_events e
                WHERE e.organization_id = \(bind: organization.rawValue) AND \(chunk.sqlMembership("e.phone", for: sql))
                  AND e.state = 'opted_out' AND \(recipientSources.sqlMembership("e.source", for: sql))
                  AND e.id = (SELECT MAX(x.id) FROM consent_events x WHERE x.organization_id = e.organization_id AND x.phone = e.phone)
                """
            ).all() {
                found.insert(try row.value("phone"))
            }
        }
        return found
    }

    /// Changes consent for a phone with an audit entry.
    public func setConsent(
        organization: OrganizationID,
        phone: String,
        state: ConsentState,
        source: ConsentSource,
        rawText: String?,
        basis: String? = nil,
        actor: String,
        at instant: Date,
        audit: AuditRecord
    ) async throws {
        try await database.transaction { sql in
            try await ContactStore.recordConsent(
                organization: organization,
                phone: phone,
                state: state,
                source: source,
                rawText: rawText,
                basis: basis,
                actor: actor,
                at: instant,
                on: sql
            )
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// A phone's consent state in an organisation.
    public func consent(organization: OrganizationID, phone: String) async throws -> ConsentState {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT state FROM consents WHERE organization_id = \(bind: organization.rawValue) AND phone = \(bind: phone)
                """
            ).first().flatMap { ConsentState(rawValue: try $0.value("state")) } ?? .pending
        }
    }

    /// A phone's consent history, oldest first.
    public func consentHistory(organization: OrganizationID, phone: String) async throws -> [ConsentEvent] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT e.id, e.phone, e.state, e.source, e.raw_text, e.basis, e.actor, e.created_at,
                       \(unsafeRaw: OptInStore.columns)
                FROM consent_events e LEFT JOIN opt_ins o ON o.id = e.opt_in_id
                WHERE e.organization_id = \(bind: organization.rawValue) AND e.phone = \(bind: phone) ORDER BY e.id
                """
            ).all().map { row in
                ConsentEvent(
                    id: try row.value("id"),
                    phone: try row.value("phone"),
                    state: ConsentState(rawValue: try row.value("state")) ?? .pending,
                    source: ConsentSource(rawValue: try row.value("source")) ?? .staff,
                    rawText: try row.optional("raw_text"),
                    basis: try row.optional("basis"),
                    actor: try row.value("actor"),
                    at: try row.date("created_at"),
                    optIn: try OptInStore.optInIfPresent(row)
                )
            }
        }
    }
}
