import CreditsCore
import Foundation

/// Whether a number may be texted: only opted-in numbers receive messages.
public enum ConsentState: String, Sendable, Codable, CaseIterable {
    /// Never opted in: nothing is sent.
    case pending
    case optedIn = "opted_in"
    case optedOut = "opted_out"
}

/// Where a consent change came from.
public enum ConsentSource: String, Sendable, Codable, CaseIterable {
    case staff, api, keyword, `import`
    /// The recipient pressed 9 during a voice broadcast.
    case keypress

    /// True when the recipient themselves gave it (a keyword they texted, a key they pressed):
    /// such an opt-out is undone only by the recipient.
    public var isRecipient: Bool { self == .keyword || self == .keypress }
}

/// A person an organisation texts.
public struct Contact: Sendable, Equatable, Codable {
    public var id: String
    public var organizationID: OrganizationID
    public var name: String
    public var firstName: String
    public var phone: String
    public var email: String?
    /// Group names ("families", "students", "staff" …).
    public var groups: [String]
    /// Extra merge fields ({{class_name}} …).
    public var fields: [String: String]
    public var consent: ConsentState
    public var consentChangedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String,
        organizationID: OrganizationID,
        name: String,
        firstName: String,
        phone: String,
        email: String?,
        groups: [String],
        fields: [String: String],
        consent: ConsentState,
        consentChangedAt: Date?,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.firstName = firstName
        self.phone = phone
        self.email = email
        self.groups = groups
        self.fields = fields
        self.consent = consent
        self.consentChangedAt = consentChangedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, phone, email, groups, fields, consent
        case organizationID = "organization_id"
        case firstName = "first_name"
        case consentChangedAt = "consent_changed_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// The values merge fields are filled from: the contact's own fields, then name, first_name, phone.
    public var mergeValues: [String: String] {
        var values = fields
        values["name"] = name
        values["first_name"] = firstName
        values["phone"] = phone
        if let email { values["email"] = email }
        return values
    }
}

/// A group of contacts, with how many it has and how many of them can receive texts now.
public struct ContactGroup: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var contacts: Int
    /// Members whose number is opted in: the ones a text to the group reaches.
    public var optedIn: Int

    enum CodingKeys: String, CodingKey {
        case id, name, contacts
        case optedIn = "opted_in"
    }

    public init(id: String, name: String, contacts: Int, optedIn: Int) {
        self.id = id
        self.name = name
        self.contacts = contacts
        self.optedIn = optedIn
    }
}

/// One recorded consent change: when, how, and the raw text if it came by text.
public struct ConsentEvent: Sendable, Equatable, Encodable {
    public var id: Int64
    public var phone: String
    public var state: ConsentState
    public var source: ConsentSource
    public var rawText: String?
    /// How staff say consent was given ("signed the enrolment form"), when they stated it.
    public var basis: String?
    public var actor: String
    public var at: Date
    /// The request this event confirmed, when it was a YES to the opt-in page or the JOIN
    /// keyword: where it came from, when, from which address, and the wording shown.
    public var optIn: OptIn?

    enum CodingKeys: String, CodingKey {
        case id, phone, state, source, actor, at, basis
        case rawText = "raw_text"
        case optIn = "opt_in"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(phone, forKey: .phone)
        try container.encode(state, forKey: .state)
        try container.encode(source, forKey: .source)
        try container.encodeIfPresent(rawText, forKey: .rawText)
        try container.encodeIfPresent(basis, forKey: .basis)
        try container.encode(actor, forKey: .actor)
        try container.encode(at, forKey: .at)
        try container.encodeIfPresent(optIn, forKey: .optIn)
    }
}

/// Filters for listing contacts.
public struct ContactQuery: Sendable {
    public var group: String?
    public var consent: ConsentState?
    public var search: String?
    /// One whole number (E.164), found through the index instead of a search of every number.
    public var phone: String?
    public var afterID: String?
    public var limit: Int

    public init(
        group: String? = nil,
        consent: ConsentState? = nil,
        search: String? = nil,
        afterID: String? = nil,
        limit: Int = 100
    ) {
        self.group = group
        self.consent = consent
        self.search = search
        self.afterID = afterID
        self.limit = limit
    }
}
