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

    enum CodingKeys: String, CodingKey {
        case name, phone, email, groups, fields, consent
        case firstName = "first_name"
    }

    public static let fields = JSONFields([
        "name": nil, "first_name": nil, "phone": nil, "email": nil, "groups": nil,
        "fields": nil, "consent": nil,
    ])

    public init(
        name: String,
        firstName: String? = nil,
        phone: String,
        email: String? = nil,
        groups: [String]? = nil,
        fields: [String: String]? = nil,
        consent: ConsentState? = nil
    ) {
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
}

/// `POST /v1/contacts/{id}/consent`.
public struct ConsentInput: APIInput, Sendable {
    public var state: ConsentState
    public static let fields = JSONFields(["state"])
}

/// `POST /v1/contacts/import`: up to 10,000 contacts at once.
public struct ImportInput: APIInput, Sendable {
    public var contacts: [NewContactInput]
    /// Consent collected with the list (e.g. on enrolment forms); applies to every new number.
    public var consent: ConsentState?

    public static let fields = JSONFields(["contacts": NewContactInput.fields, "consent": nil])

    public init(contacts: [NewContactInput], consent: ConsentState? = nil) {
        self.contacts = contacts
        self.consent = consent
    }
}

/// What an import did.
public struct ImportResult: Encodable, Sendable {
    public var added: Int
    public var skipped: Int
    /// Rows refused, by index, with the reason.
    public var errors: [ImportError]
}

/// One refused import row.
public struct ImportError: Encodable, Sendable {
    public var index: Int
    public var code: String
    public var message: String
}

/// A contact with its consent history.
public struct ContactDetail: Encodable, Sendable {
    public var contact: Contact
    public var consentHistory: [ConsentEvent]

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

    /// Longest group name and most groups per contact.
    static let groupNameMax = 100
    static let groupsPerContactMax = 50

    func phone(_ text: String, principal: Principal) throws -> String {
        try PhoneNumber(parsing: text, defaultCountry: principal.organization.country).e164
    }

    func groups(_ names: [String]?) throws -> [String] {
        guard let names else { return [] }
        guard names.count <= ContactService.groupsPerContactMax else { throw ContactError.tooManyGroups }
        return try Array(
            Set(names.map { try InputRules.name($0, field: "groups", limit: ContactService.groupNameMax).lowercased() })
        ).sorted()
    }

    func fields(_ values: [String: String]?) throws -> [String: String] {
        guard let values else { return [:] }
        for (key, value) in values {
            guard !key.isEmpty, key.unicodeScalars.count <= 64,
                key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            else {
                throw ContactError.fieldNameInvalid(key)
            }
            guard value.unicodeScalars.count <= 500 else { throw ContactError.fieldValueTooLong(key) }
        }
        return values
    }

    /// The first name the merge field {{first_name}} uses: the one given, or the name's first
    /// word, within the 100 characters the column holds.
    static func firstName(_ given: String?, of name: String) throws(InputError) -> String {
        if let given { return try InputRules.name(given, field: "first_name", limit: 100) }
        let word = String(name.split(separator: " ").first ?? Substring(name))
        guard word.unicodeScalars.count <= 100 else { throw .tooLong(field: "first_name", limit: 100) }
        return word
    }

    /// Adds a contact.
    public func create(_ principal: Principal, _ input: NewContactInput) async throws -> Contact {
        let instant = now()
        let name = try InputRules.name(input.name)
        let firstName = try ContactService.firstName(input.firstName, of: name)
        let contact = Contact(
            id: Identifier.make("con_"),
            organizationID: principal.organizationID,
            name: name,
            firstName: firstName,
            phone: try phone(input.phone, principal: principal),
            email: try input.email.map { try InputRules.email($0) },
            groups: try groups(input.groups),
            fields: try fields(input.fields),
            consent: .pending,
            consentChangedAt: nil,
            createdAt: instant,
            updatedAt: instant
        )
        if input.consent == .pending { throw ContactError.consentNotGiven(field: "consent") }
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
                consent: input.consent.map { ($0, principal.actor.reference, .staff) },
                audit: audit
            )
        }
        if input.consent == .optedIn {
            await messaging.sendSignup(organization: principal.organization, phone: created.phone)
        }
        return created
    }

    /// Most contacts one import takes.
    public static let importMax = 10_000

    /// Adds many contacts in one transaction; invalid rows are reported and left out, numbers the
    /// organisation already has are skipped. No signup messages are sent for imported consent.
    public func importContacts(_ principal: Principal, _ input: ImportInput) async throws -> ImportResult {
        guard input.contacts.count <= ContactService.importMax else {
            throw ContactError.tooManyContacts(maximum: ContactService.importMax)
        }
        if input.consent == .pending { throw ContactError.consentNotGiven(field: "consent") }
        // Consent recorded for a whole list at once is an organisation's word on many numbers.
        if input.consent != nil { try principal.require(.manageSettings) }
        let instant = now()
        var contacts: [Contact] = []
        var errors: [ImportError] = []
        var rowIndex: [String: Int] = [:]
        for (index, row) in input.contacts.enumerated() {
            do {
                let name = try InputRules.name(row.name)
                contacts.append(
                    Contact(
                        id: Identifier.make("con_"),
                        organizationID: principal.organizationID,
                        name: name,
                        firstName: try ContactService.firstName(row.firstName, of: name),
                        phone: try phone(row.phone, principal: principal),
                        email: try row.email.map { try InputRules.email($0) },
                        groups: try groups(row.groups),
                        fields: try fields(row.fields),
                        consent: .pending,
                        consentChangedAt: nil,
                        createdAt: instant,
                        updatedAt: instant
                    )
                )
                rowIndex[contacts[contacts.count - 1].phone] = rowIndex[contacts[contacts.count - 1].phone] ?? index
            } catch let error as any DomainError {
                errors.append(ImportError(index: index, code: error.code, message: error.message))
            }
        }
        let consentNote = input.consent.map { ", \($0.rawValue.replacingOccurrences(of: "_", with: " "))" } ?? ""
        let actor = principal.actor
        let outcome = try await database.unitOfWork { [contacts] work in
            let outcome = try await ContactStore.importContacts(
                contacts,
                consent: input.consent,
                actor: actor.reference,
                at: instant,
                in: work
            )
            var audits = [
                AuditRecord(
                    organization: principal.organizationID,
                    actor: actor,
                    action: .contactsImported,
                    message: "Imported \(outcome.added) contacts (\(outcome.skipped) already present)\(consentNote).",
                    at: instant
                )
            ]
            audits += outcome.consentRefused.map { ContactService.refusedOptIn($0, principal: principal, at: instant) }
            try await AuditStore.insert(audits, in: work)
            return outcome
        }
        for phone in outcome.consentRefused {
            let refusal = ContactError.optedOutByRecipient(phone: phone)
            errors.append(ImportError(index: rowIndex[phone] ?? 0, code: refusal.code, message: refusal.message))
        }
        errors.sort { $0.index < $1.index }
        return ImportResult(added: outcome.added, skipped: outcome.skipped, errors: errors)
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
        if let phone = patch.phone { contact.phone = try self.phone(phone, principal: principal) }
        if let email = patch.email { contact.email = email.isEmpty ? nil : try InputRules.email(email) }
        if patch.groups != nil { contact.groups = try groups(patch.groups) }
        if patch.fields != nil { contact.fields = try fields(patch.fields) }
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
    public func setConsent(_ principal: Principal, _ id: String, _ state: ConsentState) async throws -> ContactDetail {
        guard state != .pending else { throw ContactError.consentNotGiven(field: "state") }
        let contact = try await contact(principal, id)
        let instant = now()
        let sentence = state == .optedIn ? "opted in" : "opted out"
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: state == .optedIn ? .contactOptedIn : .contactOptedOut,
            message: "\(contact.name) (\(contact.phone)) \(sentence) by \(principal.actor.name).",
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
                actor: principal.actor.reference,
                at: instant,
                audit: audit
            )
        }
        if state == .optedIn && contact.consent != .optedIn {
            await messaging.sendSignup(organization: principal.organization, phone: contact.phone)
        }
        return try await detail(principal, id)
    }

    /// A page of the organisation's contacts.
    public func list(_ principal: Principal, _ query: ContactQuery) async throws -> [Contact] {
        try await contacts.list(principal.organizationID, query)
    }

    /// The organisation's groups with how many contacts each has.
    public func groups(_ principal: Principal) async throws -> [ContactGroup] {
        try await contacts.groups(of: principal.organizationID)
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
                [ContactService.refusedOptIn(phone, principal: principal, at: now())],
                into: database
            )
            throw ContactError.optedOutByRecipient(phone: phone)
        }
    }

    /// The audit entry of a refused opt-in.
    static func refusedOptIn(_ phone: String, principal: Principal, at instant: Date) -> AuditRecord {
        AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .optInRefused,
            message:
                "\(principal.actor.name) tried to opt in \(phone), who had texted STOP; refused (only the recipient can opt back in).",
            subjectType: "contact",
            at: instant
        )
    }
}
