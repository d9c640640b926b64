import CreditsCore

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
    /// The staff member ranks above the person acting.
    case outranked(name: String, role: Role)
    /// The role asked for ranks above the person acting.
    case roleAboveYours(Role)
    /// A permission the person acting does not have cannot be given.
    case permissionNotYours(Permission)
    /// Setting one's own password needs the current one.
    case currentPasswordRequired
    /// The current password given is wrong.
    case currentPasswordWrong
    /// Only owners, or someone strictly above them, set another person's password.
    case passwordResetNotAllowed(name: String)
    /// An owner holds every permission (so an organisation can never lock itself out).
    case ownerHoldsEveryPermission
    /// Only an owner changes their own role or permissions (anyone else could give themselves back
    /// what was taken away).
    case ownAccess
    /// Owners and admins use the shared pool ("Shared"): credits per month are for other staff.
    case sharedCredits(name: String, role: Role)
    /// A number to limit someone to that is not one of the organisation's numbers in use.
    case unknownNumber(String)

    /// The owner-only actions.
    public enum OwnerAction: Sendable, Equatable {
        case addOwner
        case changeOwnerRole
        case deleteOwner
    }

    public var kind: RefusalKind {
        switch self {
        case .ownerOnly, .outranked, .roleAboveYours, .permissionNotYours, .passwordResetNotAllowed, .ownAccess:
            .forbidden
        case .emailTaken, .cannotDeleteSelf, .lastOwner: .conflict
        case .unknownTimeZone, .currentPasswordRequired, .currentPasswordWrong, .ownerHoldsEveryPermission,
            .sharedCredits, .unknownNumber:
            .invalid
        }
    }

    public var code: String {
        switch self {
        case .ownerOnly, .outranked, .roleAboveYours, .permissionNotYours, .passwordResetNotAllowed, .ownAccess:
            "forbidden"
        case .currentPasswordRequired: "current_password_required"
        case .currentPasswordWrong: "current_password_wrong"
        case .emailTaken: "email_taken"
        case .cannotDeleteSelf: "cannot_delete_self"
        case .lastOwner: "last_owner"
        case .unknownTimeZone: "field_invalid"
        case .ownerHoldsEveryPermission: "owner_permissions"
        case .sharedCredits: "allotment_for_shared_role"
        case .unknownNumber: "number_not_found"
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
        case .outranked(let name, let role):
            role == .owner
                ? "\(name) is an owner: only an owner can change, remove or make API keys for an owner."
                : "\(name) is \(role.withArticle), which ranks above you: you cannot change, remove or make API keys for them."
        case .roleAboveYours(let role):
            "You cannot make someone \(role.withArticle): it ranks above your own role."
        case .permissionNotYours(let permission):
            "You cannot give the “\(permission.label)” permission (\(permission.rawValue)): you do not have it yourself."
        case .ownerHoldsEveryPermission:
            "An owner holds every permission; make them an admin to choose their permissions."
        case .ownAccess:
            "You cannot change your own role or permissions; another owner or admin can."
        case .sharedCredits(let name, let role):
            "\(name) is \(role.withArticle) and uses the shared pool (“Shared”): "
                + "credits per month are given to other staff."
        case .unknownNumber(let number):
            "numbers: \(number) is not one of your numbers in use (GET /v1/numbers lists them)."
        case .currentPasswordRequired: "Give your current password (current_password) to set a new one."
        case .currentPasswordWrong: "The current password is not right."
        case .passwordResetNotAllowed(let name):
            "Only an owner, or someone who ranks above \(name), can set \(name)'s password."
        }
    }

    public var field: String? {
        switch self {
        case .unknownTimeZone: "timezone"
        case .currentPasswordRequired, .currentPasswordWrong: "current_password"
        case .roleAboveYours, .ownAccess: "role"
        case .permissionNotYours, .ownerHoldsEveryPermission: "permissions"
        case .sharedCredits: "credits_per_month"
        case .unknownNumber: "numbers"
        case .passwordResetNotAllowed: "password"
        case .ownerOnly, .emailTaken, .cannotDeleteSelf, .lastOwner, .outranked: nil
        }
    }
}
