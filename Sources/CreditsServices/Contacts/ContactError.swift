/// Why a contact change or import was refused.
public enum ContactError: DomainError, Equatable {
    /// More than `ContactService.groupsPerContactMax` groups.
    case tooManyGroups
    /// A custom field name that is not letters, digits and _ (or too long).
    case fieldNameInvalid(String)
    /// A custom field value over 500 characters.
    case fieldValueTooLong(String)
    /// Consent given as "pending" (field `consent`, or `state` when setting it).
    case consentNotGiven(field: String)
    /// An import over `ContactService.importMax` rows.
    case tooManyContacts(maximum: Int)
    /// The change clashes with another contact (the same number).
    case duplicate(String)
    /// Staff tried to opt in a number whose recipient opted out by text: only the recipient can.
    case optedOutByRecipient(phone: String)

    public var kind: RefusalKind {
        switch self {
        case .tooManyGroups, .fieldNameInvalid, .fieldValueTooLong, .consentNotGiven, .tooManyContacts: .invalid
        case .duplicate, .optedOutByRecipient: .conflict
        }
    }

    public var code: String {
        switch self {
        case .tooManyGroups, .fieldNameInvalid, .fieldValueTooLong, .consentNotGiven: "field_invalid"
        case .tooManyContacts: "too_many_contacts"
        case .duplicate: "conflict"
        case .optedOutByRecipient: "opted_out_by_recipient"
        }
    }

    public var message: String {
        switch self {
        case .tooManyGroups: "A contact can be in at most 50 groups."
        case .fieldNameInvalid: "Field names use letters, digits and _ (at most 64)."
        case .fieldValueTooLong: "Field values have at most 500 characters."
        case .consentNotGiven(let field):
            field == "state" ? "state is opted_in or opted_out." : "\(field) is opted_in or opted_out when given."
        case .tooManyContacts(let maximum): "An import takes at most \(maximum) contacts."
        case .duplicate(let what): what.prefix(1).uppercased() + what.dropFirst() + "."
        case .optedOutByRecipient(let phone):
            "\(phone) texted STOP, so only they can opt back in (by texting START). Their opt-out stays as it is."
        }
    }

    public var field: String? {
        switch self {
        case .tooManyGroups: "groups"
        case .fieldNameInvalid(let key), .fieldValueTooLong(let key): "fields.\(key)"
        case .consentNotGiven(let field): field
        case .tooManyContacts: "contacts"
        case .duplicate: nil
        case .optedOutByRecipient: "consent"
        }
    }
}
