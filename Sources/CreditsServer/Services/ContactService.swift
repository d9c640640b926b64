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

    public static let fields = JSONFields(["name": nil, "first_name": nil, "phone": nil, "email": nil, "groups": nil,
                                           "fields": nil, "consent": nil])

    public init(name: String, firstName: String? = nil, phone: String, email: String? = nil, groups: [String]? = nil,
                fields: [String: String]? = nil, consent: ConsentState? = nil) {
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

    public static let fields = JSONFields(["name": nil, "first_name": nil, "phone": nil, "email": nil, "groups": nil, "fields": nil])
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

/// Contacts, groups and consent.
public struct ContactService: Sendable {
    let services: AppServices

    /// Longest group name and most groups per contact.
    static let groupNameMax = 100
    static let groupsPerContactMax = 50

    func phone(_ text: String, principal: Principal) throws -> String {
        do {
            return try PhoneNumber(parsing: text, defaultCountry: principal.organization.country).e164
        } catch {
            throw APIError(error)
        }
    }

    func groups(_ names: [String]?) throws -> [String] {
        guard let names else { return [] }
        guard names.count <= ContactService.groupsPerContactMax else { throw APIError.invalid("groups", "A contact can be in at most 50 groups.") }
        return try Array(Set(names.map { try InputRules.name($0, field: "groups", limit: ContactService.groupNameMax).lowercased() })).sorted()
    }

    func fields(_ values: [String: String]?) throws -> [String: String] {
        guard let values else { return [:] }
        for (key, value) in values {
            guard !key.isEmpty, key.count <= 64, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw APIError.invalid("fields.\(key)", "Field names use letters, digits and _ (at most 64).")
            }
            guard value.count <= 500 else { throw APIError.invalid("fields.\(key)", "Field values have at most 500 characters.") }
        }
        return values
    }

    /// Adds a contact.
    public func create(_ principal: Principal, _ input: NewContactInput) async throws -> Contact {
        let instant = services.now()
        let name = try InputRules.name(input.name)
        let firstName = try input.firstName.map { try InputRules.name($0, field: "first_name", limit: 100) }
            ?? String(name.split(separator: " ").first ?? Substring(name))
        let contact = Contact(id: Identifier.make("con_"), organizationID: principal.organizationID, name: name, firstName: firstName,
                              phone: try phone(input.phone, principal: principal), email: try input.email.map { try InputRules.email($0) },
                              groups: try groups(input.groups), fields: try fields(input.fields), consent: .pending, consentChangedAt: nil,
                              createdAt: instant, updatedAt: instant)
        if input.consent == .pending { throw APIError.invalid("consent", "consent is opted_in or opted_out when given.") }
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "contact.created",
                                message: "Contact \(contact.name) (\(contact.phone)) added.", subjectType: "contact", subjectID: contact.id, at: instant)
        let created: Contact
        do {
            created = try await services.contacts.create(contact, consent: input.consent.map { ($0, principal.actor.reference, .staff) }, audit: audit)
        } catch let error as StoreError {
            throw APIError(error)
        }
        if input.consent == .optedIn { await services.messaging.sendSignup(organization: principal.organization, phone: created.phone) }
        return created
    }

    /// Most contacts one import takes.
    public static let importMax = 10_000

    /// Adds many contacts in one transaction; invalid rows are reported and left out, numbers the
    /// organisation already has are skipped. No signup messages are sent for imported consent.
    public func importContacts(_ principal: Principal, _ input: ImportInput) async throws -> ImportResult {
        guard input.contacts.count <= ContactService.importMax else {
            throw APIError.invalid("contacts", "An import takes at most \(ContactService.importMax) contacts.", code: "too_many_contacts")
        }
        if input.consent == .pending { throw APIError.invalid("consent", "consent is opted_in or opted_out when given.") }
        let instant = services.now()
        var contacts: [Contact] = []
        var errors: [ImportError] = []
        for (index, row) in input.contacts.enumerated() {
            do {
                let name = try InputRules.name(row.name)
                contacts.append(Contact(
                    id: Identifier.make("con_"), organizationID: principal.organizationID, name: name,
                    firstName: try row.firstName.map { try InputRules.name($0, field: "first_name", limit: 100) } ?? String(name.split(separator: " ").first ?? Substring(name)),
                    phone: try phone(row.phone, principal: principal), email: try row.email.map { try InputRules.email($0) }, groups: try groups(row.groups),
                    fields: try fields(row.fields), consent: .pending, consentChangedAt: nil, createdAt: instant, updatedAt: instant))
            } catch let error as APIError {
                errors.append(ImportError(index: index, code: error.code, message: error.message))
            }
        }
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "contact.imported",
                                message: "Imported {{added}} contacts ({{skipped}} already present)\(input.consent.map { ", \($0.rawValue.replacingOccurrences(of: "_", with: " "))" } ?? "").",
                                at: instant)
        let (added, skipped) = try await services.contacts.importContacts(contacts, consent: input.consent, actor: principal.actor.reference, at: instant, audit: audit)
        return ImportResult(added: added, skipped: skipped, errors: errors)
    }

    /// One contact with its consent history.
    public func detail(_ principal: Principal, _ id: String) async throws -> ContactDetail {
        let contact = try await contact(principal, id)
        let history = try await services.contacts.consentHistory(organization: principal.organizationID, phone: contact.phone)
        return ContactDetail(contact: contact, consentHistory: history)
    }

    func contact(_ principal: Principal, _ id: String) async throws -> Contact {
        guard let contact = try await services.contacts.contact(id, of: principal.organizationID) else { throw APIError.notFound("Contact \(id)") }
        return contact
    }

    /// Changes a contact.
    public func update(_ principal: Principal, _ id: String, _ patch: ContactPatch) async throws -> Contact {
        var contact = try await contact(principal, id)
        if let name = patch.name { contact.name = try InputRules.name(name) }
        if let firstName = patch.firstName { contact.firstName = try InputRules.name(firstName, field: "first_name", limit: 100) }
        if let phone = patch.phone { contact.phone = try self.phone(phone, principal: principal) }
        if let email = patch.email { contact.email = email.isEmpty ? nil : try InputRules.email(email) }
        if patch.groups != nil { contact.groups = try groups(patch.groups) }
        if patch.fields != nil { contact.fields = try fields(patch.fields) }
        contact.updatedAt = services.now()
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "contact.updated",
                                message: "Contact \(contact.name) (\(contact.phone)) updated.", subjectType: "contact", subjectID: contact.id,
                                at: contact.updatedAt)
        do {
            return try await services.contacts.update(contact, audit: audit)
        } catch let error as StoreError {
            throw APIError(error)
        }
    }

    /// Deletes a contact (an opt-out of its number is kept).
    public func delete(_ principal: Principal, _ id: String) async throws {
        let contact = try await contact(principal, id)
        let instant = services.now()
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "contact.deleted",
                                message: "Contact \(contact.name) (\(contact.phone)) deleted.", subjectType: "contact", subjectID: contact.id, at: instant)
        try await services.contacts.delete(id, of: principal.organizationID, at: instant, audit: audit)
    }

    /// Records staff-given consent for a contact's number.
    public func setConsent(_ principal: Principal, _ id: String, _ state: ConsentState) async throws -> ContactDetail {
        guard state != .pending else { throw APIError.invalid("state", "state is opted_in or opted_out.") }
        let contact = try await contact(principal, id)
        let instant = services.now()
        let sentence = state == .optedIn ? "opted in" : "opted out"
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "contact.\(state.rawValue)",
                                message: "\(contact.name) (\(contact.phone)) \(sentence) by \(principal.actor.name).", subjectType: "contact",
                                subjectID: contact.id, at: instant)
        try await services.contacts.setConsent(organization: principal.organizationID, phone: contact.phone, state: state, source: .staff,
                                               rawText: nil, actor: principal.actor.reference, at: instant, audit: audit)
        if state == .optedIn && contact.consent != .optedIn {
            await services.messaging.sendSignup(organization: principal.organization, phone: contact.phone)
        }
        return try await detail(principal, id)
    }
}
