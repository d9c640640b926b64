/// What a staff member may do (DESIGN §5).
public enum Permission: String, Sendable, Codable, CaseIterable, Comparable {
    /// Buy credits and manage auto-renew and payment methods.
    case purchaseCredits = "purchase_credits"
    /// Change organisation and SMS settings, staff and API keys.
    case manageSettings = "manage_settings"
    /// Transfer credits between the pool and wallets and set allotments ("master user").
    case manageUserCredits = "manage_user_credits"
    /// Send texts to many recipients.
    case sendMassTexts = "send_mass_texts"
    /// Send a mass text outside the organisation's sending hours.
    case overrideSendingHours = "override_sending_hours"
    /// Read the audit log, statements and billing history.
    case viewLogs = "view_logs"

    public static func < (lhs: Permission, rhs: Permission) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The permission as the pages and messages name it.
    public var label: String {
        switch self {
        case .purchaseCredits: "Buy credits and manage auto-renew"
        case .manageSettings: "Change settings, staff and API keys"
        case .manageUserCredits: "Master user: buy system credits and move credits between the system and staff"
        case .sendMassTexts: "Send texts to many recipients"
        case .overrideSendingHours: "Send outside sending hours"
        case .viewLogs: "Read the audit log and billing history"
        }
    }
}

/// A staff member's role; it gives default permissions, which may be narrowed or widened per person.
public enum Role: String, Sendable, Codable, CaseIterable {
    case owner
    /// An admin who also sees and runs billing: the PastorsLine page's "Admin+" (shares the pool).
    case adminPlus = "admin_plus"
    case admin
    case billing
    case staff

    /// The role as the pages name it.
    public var label: String {
        self == .adminPlus ? "Admin+" : rawValue.prefix(1).uppercased() + rawValue.dropFirst()
    }

    /// "an owner", "an Admin+", "an admin", "a billing", "a staff" — the role in a sentence.
    public var withArticle: String {
        switch self {
        case .owner: "an owner"
        case .adminPlus: "an Admin+"
        case .admin: "an admin"
        case .billing: "a billing user"
        case .staff: "a staff member"
        }
    }

    /// Permissions a new staff member with this role gets.
    public var defaultPermissions: Set<Permission> {
        switch self {
        case .owner, .adminPlus, .admin: Set(Permission.allCases)
        case .billing: [.purchaseCredits, .manageUserCredits, .viewLogs]
        case .staff: [.sendMassTexts]
        }
    }

    /// Owners, Admin+ and admins share the organisation's pool ("Shared"); others have a wallet
    /// in individual-credits mode.
    public var sharesPool: Bool { self == .owner || self == .adminPlus || self == .admin }

    /// Seniority: owner, then Admin+, then admin, then billing, then staff.
    public var rank: Int {
        switch self {
        case .owner: 5
        case .adminPlus: 4
        case .admin: 3
        case .billing: 2
        case .staff: 1
        }
    }

    /// Whether someone of this role may edit, make API keys for, or remove someone of `other`'s
    /// role: nobody above their own rank, and only owners touch owners.
    public func mayManage(_ other: Role) -> Bool {
        self == .owner || (other != .owner && other.rank <= rank)
    }

    /// Whether someone of this role may set the password of someone of `other`'s role without
    /// knowing it: owners may for anyone; others only for those strictly below them.
    public func maySetPassword(of other: Role) -> Bool {
        self == .owner || other.rank < rank
    }

    /// Whether someone of this role may give someone `other` (never a role above their own).
    public func mayAssign(_ other: Role) -> Bool {
        other.rank <= rank && (other != .owner || self == .owner)
    }
}

/// Whether an organisation shares one pool or gives staff their own wallets.
public enum CreditMode: String, Sendable, Codable, CaseIterable {
    case shared
    case individual
}
