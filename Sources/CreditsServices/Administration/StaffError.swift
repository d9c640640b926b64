/// Why a change to the organisation, its staff or its keys was refused.
public enum StaffError: DomainError, Equatable {
    /// Something only an owner may do.
    case ownerOnly(OwnerAction)
    /// Another staff member already signs in with this email.
    case emailTaken(String)
    /// Nobody deletes themselves.
    case cannotDeleteSelf
    /// The organisation's only owner cannot go.
    case lastOwner
    /// Not an IANA time zone.
    case unknownTimeZone(String)

    /// The owner-only actions.
    public enum OwnerAction: Sendable, Equatable {
        case addOwner
        case changeOwnerRole
        case deleteOwner
    }

    public var kind: RefusalKind {
        switch self {
        case .ownerOnly: .forbidden
        case .emailTaken, .cannotDeleteSelf, .lastOwner: .conflict
        case .unknownTimeZone: .invalid
        }
    }

    public var code: String {
        switch self {
        case .ownerOnly: "forbidden"
        case .emailTaken: "email_taken"
        case .cannotDeleteSelf: "cannot_delete_self"
        case .lastOwner: "last_owner"
        case .unknownTimeZone: "field_invalid"
        }
    }

    public var message: String {
        switch self {
        case .ownerOnly(.addOwner): "Only an owner can add another owner."
        case .ownerOnly(.changeOwnerRole): "Only an owner can change an owner's role or make someone an owner."
        case .ownerOnly(.deleteOwner): "Only an owner can delete an owner."
        case .emailTaken(let email): "A staff member with \(email) already exists."
        case .cannotDeleteSelf: "You cannot delete yourself."
        case .lastOwner: "An organisation keeps at least one owner."
        case .unknownTimeZone(let zone): "\(zone) is not a known time zone."
        }
    }

    public var field: String? {
        if case .unknownTimeZone = self { return "timezone" }
        return nil
    }
}
