import CreditsCore
import CreditsStore
import Foundation

/// `POST /v1/contacts`.
public struct NewContactInput: APIInput, Sendable {
    public var name: String
    public var firstName: String?
    public var phone: String
    public var email: String?
    public var groups: [String]?
    public var fields: [String: String]?
    /// Consent given when the contact is added (e.g. collected on a paper form); none by default.
    public var consent: ConsentState?
    /// How that consent was given, in staff's words ("signed the enrolment form").
    public var consentBasis: String?

    enum CodingKeys: String, CodingKey {
        case name, phone, email, groups, fields, consent
        case firstName = "first_name"
        case consentBasis = "consent_basis"
    }

    public static let fields = JSONFields([
        "name": nil, "first_name": nil, "phone": nil, "email": nil, "groups": nil,
        "fields": nil, "consent": nil, "consent_basis": nil,
    ])

    public init(
        name: String,
        firstName: String? = nil,
        phone: String,
        email: String? = nil,
        groups: [String]? = nil,
        fields: [String: String]? = nil,
        consent: ConsentState? = nil,
        consentBasis: String? = nil
    ) {
        self.consentBasis = consentBasis
        self.name = name
        self.firstName = firstName
        self.phone = phone
        self.email = email
        self.groups = groups
        self.fields = fields
        self.consent = consent
    }
}

/// `PATCH /v1/contacts/{id}`.
public struct ContactPatch: APIInput, Sendable {
    public var name: String?
    public var firstName: String?
    public var phone: String?
    public var email: String?
    public var groups: [String]?
    public var fields: [String: String]?

    enum CodingKeys: String, CodingKey {
        case name, phone, email, groups, fields
        case firstName = "first_name"
    }

    public static let fields = JSONFields([
        "name": nil, "first_name": nil, "phone": nil, "email": nil, "groups": nil, "fields": nil,
    ])

    public init(
        name: String? = nil,
        firstName: String? = nil,
        phone: String? = nil,
        email: String? = nil,
        groups: [String]? = nil,
        fields: [String: String]? = nil
    ) {
        self.name = name
        self.firstName = firstName
        self.phone = phone
        self.email = email
        self.groups = groups
        self.fields = fields
    }
}

/// `POST /v1/contacts/{id}/consent`.
public struct ConsentInput: APIInput, Sendable {
    public var state: ConsentState
    /// How consent was given, in staff's words ("said yes at the front desk").
    public var basis: String?
    public static let fields = JSONFields(["state": nil, "basis": nil])

    public init(state: ConsentState, basis: String? = nil) {
        self.state = state
        self.basis = basis
    }
}

/// `POST /v1/groups`, `PATCH /v1/groups/{id}`.
public struct GroupInput: APIInput, Sendable {
    public var name: String
    public static let fields = JSONFields(["name"])

    public init(name: String) { self.name = name }
}

/// A contact with its consent history.
public struct ContactDetail: Encodable, Sendable {
    public var contact: Contact
    public var consentHistory: [ConsentEvent]
    /// When this change opted the number in: what became of the signup message (not encoded).
    public var signup: SignupOutcome? = nil

    enum CodingKeys: String, CodingKey { case consentHistory = "consent_history" }

    public func encode(to encoder: any Encoder) throws {
        try contact.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(consentHistory, forKey: .consentHistory)
    }
}

/// Contacts, groups and consent. Opting a number in sends the organisation's signup message.
public struct ContactService: Sendable {
    let contacts: ContactStore
    let database: any Database
    let messaging: MessagingService
    let now: @Sendable () -> Date

    public init(
        contacts: ContactStore,
        database: any Database,
        messaging: MessagingService,
        now: @escaping @Sendable () -> Date
    ) {
        self.contacts = contacts
        self.database = database
        self.messaging = messaging
        self.now = now
    }

    /// A contact just added, and what became of its signup message when it was added opted in.
    public struct Added: Sendable {
        public var contact: Contact
        public var signup: SignupOutcome?
    }

    /// Adds a contact.
    public func create(_ principal: Principal, _ input: NewContactInput) async throws -> Added {
        let instant = now()
        let contact = try ContactRules.contact(input, organization: principal.organization, at: instant)
        if input.consent == .pending { throw ContactError.consentNotGiven(field: "consent") }
        let basis = try ContactRules.consentBasis(input.consentBasis, field: "consent_basis")
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .contactCreated,
            message: "Contact \(contact.name) (\(contact.phone)) added.",
            subjectType: "contact",
            subjectID: contact.id,
            at: instant
        )
        let created = try await storing(principal) {
            try await contacts.create(
                contact,
                consent: input.consent.map { ($0, principal.actor.reference, .staff, basis) },
                audit: audit
            )
        }
        var signup: SignupOutcome?
        if input.consent == .optedIn {
            signup = await messaging.sendSignup(organization: principal.organization, phone: created.phone)
        }
        return Added(contact: created, signup: signup)
    }

    /// One contact with its consent history.
    public func detail(_ principal: Principal, _ id: String) async throws -> ContactDetail {
        let contact = try await contact(principal, id)
        let history = try await contacts.consentHistory(organization: principal.organizationID, phone: contact.phone)
        return ContactDetail(contact: contact, consentHistory: history)
    }

    func contact(_ principal: Principal, _ id: String) async throws -> Contact {
        guard let contact = try await contacts.contact(id, of: principal.organizationID) else {
            throw NotFoundError("Contact \(id)")
        }
        return contact
    }

    /// Changes a contact.
    public func update(_ principal: Principal, _ id: String, _ patch: ContactPatch) async throws -> Contact {
        var contact = try await contact(principal, id)
        if let name = patch.name { contact.name = try InputRules.name(name) }
        if let firstName = patch.firstName {
            contact.firstName = try InputRules.name(firstName, field: "first_name", limit: 100)
        }
        if let phone = patch.phone {
            contact.phone = try ContactRules.phone(phone, country: principal.organization.country)
        }
        if let email = patch.email { contact.email = email.isEmpty ? nil : try InputRules.email(email) }
        if patch.groups != nil { contact.groups = try ContactRules.groups(patch.groups) }
        if patch.fields != nil { contact.fields = try ContactRules.fields(patch.fields) }
        contact.updatedAt = now()
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .contactUpdated,
            message: "Contact \(contact.name) (\(contact.phone)) updated.",
            subjectType: "contact",
            subjectID: contact.id,
            at: contact.updatedAt
        )
        return try await storing(principal) { try await contacts.update(contact, audit: audit) }
    }

    /// Deletes a contact (an opt-out of its number is kept).
    public func delete(_ principal: Principal, _ id: String) async throws {
        let contact = try await contact(principal, id)
        let instant = now()
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .contactDeleted,
            message: "Contact \(contact.name) (\(contact.phone)) deleted.",
            subjectType: "contact",
            subjectID: contact.id,
            at: instant
        )
        try await contacts.delete(id, of: principal.organizationID, at: instant, audit: audit)
    }

    /// Records staff-given consent for a contact's number.
    public func setConsent(_ principal: Principal, _ id: String, _ input: ConsentInput) async throws -> ContactDetail {
        let state = input.state
        guard state != .pending else { throw ContactError.consentNotGiven(field: "state") }
        let basis = try ContactRules.consentBasis(input.basis, field: "basis")
        let contact = try await contact(principal, id)
        let instant = now()
        let sentence = state == .optedIn ? "opted in" : "opted out"
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: state == .optedIn ? .contactOptedIn : .contactOptedOut,
            message: "\(contact.name) (\(contact.phone)) \(sentence) by \(principal.actor.name)"
                + (basis.map { ": \($0)." } ?? "."),
            subjectType: "contact",
            subjectID: contact.id,
            at: instant
        )
        try await storing(principal) {
            try await contacts.setConsent(
                organization: principal.organizationID,
                phone: contact.phone,
                state: state,
                source: .staff,
                rawText: nil,
                basis: basis,
                actor: principal.actor.reference,
                at: instant,
                audit: audit
            )
        }
        var signup: SignupOutcome?
        if state == .optedIn && contact.consent != .optedIn {
            signup = await messaging.sendSignup(organization: principal.organization, phone: contact.phone)
        }
        var changed = try await detail(principal, id)
        changed.signup = signup
        return changed
    }

    /// A page of the organisation's contacts.
    /// A search that is a whole phone number, typed the local way ("0412 345 678" in Australia),
    /// looks for that number.
    public func list(_ principal: Principal, _ query: ContactQuery) async throws -> [Contact] {
        var query = query
        // A whole number however typed ("(415) 555-2671") is one contact, found by its index.
        if let search = query.search, search.contains(where: \.isNumber),
            let number = try? ContactRules.phone(search, country: principal.organization.country)
        {
            query.search = nil
            query.phone = number
        }
        return try await contacts.list(principal.organizationID, query)
    }

    /// The organisation's groups with how many contacts each has.
    public func groups(_ principal: Principal, afterName cursor: String? = nil, limit: Int = 1000) async throws
        -> [ContactGroup]
    {
        try await contacts.groups(of: principal.organizationID, afterName: cursor, limit: limit)
    }

    /// The names of the organisation's groups (for choosing; no counts).
    public func groupNames(_ principal: Principal) async throws -> [String] {
        try await contacts.groupNames(of: principal.organizationID)
    }

    /// One group with its counts.
    public func group(_ principal: Principal, _ id: String) async throws -> ContactGroup {
        guard let group = try await contacts.group(id, of: principal.organizationID) else {
            throw NotFoundError("Group \(id)")
        }
        return group
    }

    /// Adds an empty group (contacts join it when added or edited).
    public func createGroup(_ principal: Principal, _ input: GroupInput) async throws -> ContactGroup {
        let name = try ContactRules.groupName(input.name)
        let id = Identifier.make("grp_")
        let instant = now()
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .groupCreated,
            message: "Group \(name) created.",
            subjectType: "group",
            subjectID: id,
            at: instant
        )
        return try await storing(principal) {
            try await contacts.createGroup(id, named: name, of: principal.organizationID, at: instant, audit: audit)
        }
    }

    /// Renames a group; its members stay in it.
    public func renameGroup(_ principal: Principal, _ id: String, _ input: GroupInput) async throws -> ContactGroup {
        let name = try ContactRules.groupName(input.name)
        let group = try await group(principal, id)
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .groupRenamed,
            message: "Group \(group.name) renamed to \(name).",
            subjectType: "group",
            subjectID: id,
            at: now()
        )
        return try await storing(principal) {
            try await contacts.renameGroup(id, to: name, of: principal.organizationID, audit: audit)
        }
    }

    /// Deletes a group; its contacts stay, without it.
    public func deleteGroup(_ principal: Principal, _ id: String) async throws -> ContactGroup {
        let group = try await group(principal, id)
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .groupDeleted,
            message: "Group \(group.name) deleted; its \(group.contacts) contacts were kept.",
            subjectType: "group",
            subjectID: id,
            at: now()
        )
        try await storing(principal) { try await contacts.deleteGroup(id, of: principal.organizationID, audit: audit) }
        return group
    }

    /// Runs a store write, turning its refusals into the contact's: a clash (the same number
    /// twice), and an opt-in over the recipient's own STOP, which is also written to the audit log.
    func storing<T>(_ principal: Principal, _ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch StoreError.conflict(let what) {
            throw ContactError.duplicate(what)
        } catch StoreError.notFound(let what) {
            throw NotFoundError(what)
        } catch StoreError.optedOutByRecipient(let phone) {
            try await AuditStore.insert(
                [
                    ContactService.refusedOptIn(
                        phone,
                        actor: principal.actor,
                        organization: principal.organizationID,
                        at: now()
                    )
                ],
                into: database
            )
            throw ContactError.optedOutByRecipient(phone: phone)
        }
    }

    /// The audit entry of a refused opt-in.
    static func refusedOptIn(_ phone: String, actor: Actor, organization: OrganizationID, at instant: Date)
        -> AuditRecord
    {
        AuditRecord(
            organization: organization,
            actor: actor,
            action: .optInRefused,
            message:
                "\(actor.name) tried to opt in \(phone), who had texted STOP; refused (only the recipient can opt back in).",
            subjectType: "contact",
            at: instant
        )
    }
}
