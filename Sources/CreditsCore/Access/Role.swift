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
}

/// A staff member's role; it gives default permissions, which may be narrowed or widened per person.
public enum Role: String, Sendable, Codable, CaseIterable {
    case owner
    case admin
    case billing
    case staff

    /// Permissions a new staff member with this role gets.
    public var defaultPermissions: Set<Permission> {
        switch self {
        case .owner, .admin: Set(Permission.allCases)
        case .billing: [.purchaseCredits, .manageUserCredits, .viewLogs]
        case .staff: [.sendMassTexts]
        }
    }

    /// Owners and admins share the organisation's pool ("Shared"); others have a wallet in
    /// individual-credits mode.
    public var sharesPool: Bool { self == .owner || self == .admin }
}

/// Whether an organisation shares one pool or gives staff their own wallets.
public enum CreditMode: String, Sendable, Codable, CaseIterable {
    case shared
    case individual
}
