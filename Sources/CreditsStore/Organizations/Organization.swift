import CreditsCore
import Foundation

/// An organisation (tenant) as stored.
public struct Organization: Sendable, Equatable, Codable {
    public var id: OrganizationID
    public var name: String
    /// A short lower-case name made from the name (sign-in addresses in examples, file names).
    public var accountName: String
    public var country: Country
    public var timeZone: String
    public var creditMode: CreditMode
    public var smsSettings: SMSSettings
    public var createdAt: Date
    /// The day of the month (1–28) staff allotments are added and numbers are charged.
    public var allotmentDay = 1
    /// When the operator closed the account as spam (its credits were removed).
    public var markedSpamAt: Date?

    public init(
        id: OrganizationID,
        name: String,
        accountName: String,
        country: Country,
        timeZone: String,
        creditMode: CreditMode,
        smsSettings: SMSSettings,
        createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.accountName = accountName
        self.country = country
        self.timeZone = timeZone
        self.creditMode = creditMode
        self.smsSettings = smsSettings
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, country
        case accountName = "account_name"
        case timeZone = "time_zone"
        case creditMode = "credit_mode"
        case smsSettings = "sms_settings"
        case createdAt = "created_at"
    }
}

/// A staff member as stored (never the password hash in JSON).
public struct StaffMember: Sendable, Equatable, Encodable {
    public var id: String
    public var organizationID: OrganizationID
    public var name: String
    public var email: String
    public var role: Role
    public var permissions: Set<Permission>
    public var wallet: AccountID?
    public var monthlyAllotment: Credits
    public var lowBalanceThreshold: Credits?
    public var createdAt: Date
    public var passwordHash: String?
    /// The organisation's numbers this person may send from and whose conversations they see;
    /// empty for every number.
    public var numbers: [String] = []

    public init(
        id: String,
        organizationID: OrganizationID,
        name: String,
        email: String,
        role: Role,
        permissions: Set<Permission>,
        wallet: AccountID?,
        monthlyAllotment: Credits,
        lowBalanceThreshold: Credits?,
        createdAt: Date,
        passwordHash: String?
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.email = email
        self.role = role
        self.permissions = permissions
        self.wallet = wallet
        self.monthlyAllotment = monthlyAllotment
        self.lowBalanceThreshold = lowBalanceThreshold
        self.createdAt = createdAt
        self.passwordHash = passwordHash
    }

    enum CodingKeys: String, CodingKey {
        case id, name, email, role, permissions, wallet, numbers
        case organizationID = "organization_id"
        case monthlyAllotment = "credits_per_month"
        case lowBalanceThreshold = "low_balance_threshold"
        case createdAt = "created_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(organizationID, forKey: .organizationID)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(role, forKey: .role)
        try container.encode(permissions.sorted(), forKey: .permissions)
        try container.encode(wallet, forKey: .wallet)
        try container.encode(monthlyAllotment, forKey: .monthlyAllotment)
        try container.encode(lowBalanceThreshold, forKey: .lowBalanceThreshold)
        try container.encode(numbers, forKey: .numbers)
        try container.encode(createdAt, forKey: .createdAt)
    }

    /// The actor this staff member is in audit entries and transfers.
    public var actor: Actor { Actor(kind: .staff, id: id, name: name) }
}

/// An API key's stored form: only a hash of its secret.
public struct APIKeyRecord: Sendable, Equatable, Encodable {
    public var id: String
    public var organizationID: OrganizationID
    public var staffID: String
    public var name: String
    public var secretHash: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(
        id: String,
        organizationID: OrganizationID,
        staffID: String,
        name: String,
        secretHash: String,
        createdAt: Date,
        revokedAt: Date?
    ) {
        self.id = id
        self.organizationID = organizationID
        self.staffID = staffID
        self.name = name
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name
        case organizationID = "organization_id"
        case staffID = "staff_id"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(organizationID, forKey: .organizationID)
        try container.encode(staffID, forKey: .staffID)
        try container.encode(name, forKey: .name)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(revokedAt, forKey: .revokedAt)
    }
}

extension Organization {
    /// The organisation's time zone, in which plans renew and pages show times and days (zones
    /// are checked when an organisation is created, so the fallback is never used).
    public var zone: TimeZone { TimeZone(identifier: timeZone) ?? .gmt }
}
