import CreditsCore
import CreditsStore
import Foundation

/// What a contact must be, checked the same way for one contact and for every row of an import.
public enum ContactRules {
    /// Longest group name and most groups per contact.
    static let groupNameMax = 100
    static let groupsPerContactMax = 50

    /// A new contact from its input (consent is recorded separately).
    static func contact(_ input: NewContactInput, organization: Organization, at instant: Date) throws -> Contact {
        let name = try InputRules.name(input.name)
        return Contact(
            id: Identifier.make("con_"),
            organizationID: organization.id,
            name: name,
            firstName: try firstName(input.firstName, of: name),
            phone: try phone(input.phone, country: organization.country),
            email: try input.email.map { try InputRules.email($0) },
            groups: try groups(input.groups),
            fields: try fields(input.fields),
            consent: .pending,
            consentChangedAt: nil,
            createdAt: instant,
            updatedAt: instant
        )
    }

    /// A phone number as typed locally or internationally, in E.164.
    static func phone(_ text: String, country: Country) throws -> String {
        try PhoneNumber(parsing: text, defaultCountry: country).e164
    }

    /// Group names, lowercased, without repeats, sorted.
    static func groups(_ names: [String]?) throws -> [String] {
        guard let names else { return [] }
        guard names.count <= groupsPerContactMax else { throw ContactError.tooManyGroups }
        return try Array(Set(names.map { try groupName($0, field: "groups") })).sorted()
    }

    /// A group's name: 1–100 characters, lowercased (groups are found by name whatever the case).
    static func groupName(_ text: String, field: String = "name") throws(InputError) -> String {
        // Lowercased first: "İ" becomes two characters, and the stored name must fit the limit.
        try InputRules.name(text.lowercased(), field: field, limit: groupNameMax)
    }

    /// How staff say consent was given ("signed the enrolment form"): 1–200 characters when given
    /// (a blank one is refused, as any blank name).
    static func consentBasis(_ text: String?, field: String) throws(InputError) -> String? {
        guard let text else { return nil }
        return try InputRules.name(text, field: field, limit: 200)
    }

    /// Custom merge fields: names of letters, digits and `_` (at most 64), values of at most 500.
    static func fields(_ values: [String: String]?) throws -> [String: String] {
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
}
