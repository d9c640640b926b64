import CreditsCore
import CreditsStore
import Foundation
import HummingbirdBcrypt

/// Organisations, their SMS settings, staff and API keys.
public struct AdministrationService: Sendable {
    let services: AppServices

    /// What `textcredits orgs create` prints.
    public struct CreatedOrganization: Sendable {
        public var organization: Organization
        public var owner: StaffMember
        public var apiKey: String
        public var ownerPassword: String
    }

    /// Creates an organisation with its owner (a generated password unless one is given) and a
    /// first API key, in one transaction.
    public func createOrganization(name: String, country: Country, timeZone: String, creditMode: CreditMode, ownerName: String,
                                   ownerEmail: String, ownerPassword: String?, actor: Actor) async throws -> CreatedOrganization {
        let name = try InputRules.name(name)
        guard TimeZone(identifier: timeZone) != nil else { throw APIError.invalid("timezone", "\(timeZone) is not a known time zone.") }
        let email = try InputRules.email(ownerEmail, field: "owner_email")
        let password = try ownerPassword.map { try InputRules.password($0, field: "owner_password") } ?? APIKeys.randomText(bytes: 9)
        let instant = services.now()
        let organization = Organization(id: OrganizationID(Identifier.make("org_")), name: name, accountName: AdministrationService.accountName(name),
                                        country: country, timeZone: timeZone, creditMode: creditMode,
                                        smsSettings: .defaults(timeZone: timeZone), createdAt: instant)
        let owner = StaffMember(id: Identifier.make("stf_"), organizationID: organization.id, name: try InputRules.name(ownerName, field: "owner_name"),
                                email: email, role: .owner, permissions: Role.owner.defaultPermissions, wallet: nil, monthlyAllotment: .zero,
                                lowBalanceThreshold: nil, createdAt: instant, passwordHash: Bcrypt.hash(password, cost: 10))
        let key = APIKeys.make()
        let record = APIKeyRecord(id: key.id, organizationID: organization.id, staffID: owner.id, name: "First key", secretHash: key.hash,
                                  createdAt: instant, revokedAt: nil)
        try await services.organizations.create(organization, owner: owner, key: record, actor: actor)
        return CreatedOrganization(organization: organization, owner: owner, apiKey: key.key, ownerPassword: password)
    }

    /// A short account name for `{{account}}`: lower-case letters and digits of the name.
    public static func accountName(_ name: String) -> String {
        let slug = String(name.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII })
        return slug.isEmpty ? "account" : String(slug.prefix(40))
    }

    // MARK: Settings

    /// Applies a settings patch; the error names the first field over its limit.
    public func updateSMSSettings(_ principal: Principal, _ patch: SMSSettingsPatch) async throws -> Organization {
        try principal.require(.manageSettings)
        let settings: SMSSettings
        do {
            settings = try patch.applied(to: principal.organization.smsSettings).validated()
        } catch {
            throw APIError(error)
        }
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "settings.sms_updated",
                                message: "SMS settings updated.", subjectType: "organization", subjectID: principal.organizationID.rawValue,
                                at: services.now())
        try await services.organizations.updateSettings(principal.organizationID, settings: settings, audit: audit)
        services.principals.invalidate()
        guard let organization = try await services.organizations.organization(principal.organizationID) else { throw APIError.notFound("The organisation") }
        return organization
    }

    // MARK: Staff

    /// Adds a staff member; in individual-credits mode staff (not owners or admins) get a wallet.
    public func addStaff(_ principal: Principal, _ input: NewStaffInput) async throws -> StaffMember {
        try principal.require(.manageSettings)
        if input.role == .owner && principal.staff.role != .owner {
            throw APIError(.forbidden, "forbidden", "Only an owner can add another owner.")
        }
        let instant = services.now()
        var staff = StaffMember(id: Identifier.make("stf_"), organizationID: principal.organizationID, name: try InputRules.name(input.name),
                                email: try InputRules.email(input.email), role: input.role,
                                permissions: input.permissions.map(Set.init) ?? input.role.defaultPermissions, wallet: nil,
                                monthlyAllotment: .zero, lowBalanceThreshold: nil, createdAt: instant,
                                passwordHash: try input.password.map { Bcrypt.hash(try InputRules.password($0), cost: 10) })
        if try await services.organizations.staff(of: principal.organizationID).contains(where: { $0.email == staff.email }) {
            throw APIError(.conflict, "email_taken", "A staff member with \(staff.email) already exists.")
        }
        if let credits = input.creditsPerMonth {
            try await services.credits.checkAllotment(credits, for: nil, principal: principal)
            staff.monthlyAllotment = credits
        }
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "staff.created",
                                message: "Staff member \(staff.name) (\(staff.email)) added as \(staff.role.rawValue).",
                                subjectType: "staff", subjectID: staff.id, at: instant)
        let needsWallet = principal.organization.creditMode == .individual && !staff.role.sharesPool
        return try await services.organizations.addStaff(staff, walletNeeded: needsWallet, audit: audit)
    }

    /// One staff member of the principal's organisation.
    public func staffMember(_ principal: Principal, _ id: String) async throws -> StaffMember {
        guard let staff = try await services.organizations.staffMember(id, of: principal.organizationID) else { throw APIError.notFound("Staff member \(id)") }
        return staff
    }

    /// Changes a staff member. Editing others needs manage-settings; allotments need manage-user-credits.
    public func updateStaff(_ principal: Principal, _ id: String, _ patch: StaffPatch) async throws -> StaffMember {
        var staff = try await staffMember(principal, id)
        let editingSelf = staff.id == principal.staff.id
        let changesProfile = patch.name != nil || patch.email != nil || patch.password != nil || patch.lowBalanceThreshold != nil
        let changesAccess = patch.role != nil || patch.permissions != nil
        if changesAccess || (changesProfile && !editingSelf) { try principal.require(.manageSettings) }
        if patch.creditsPerMonth != nil { try principal.require(.manageUserCredits) }
        if (patch.role == .owner || staff.role == .owner) && changesAccess && principal.staff.role != .owner {
            throw APIError(.forbidden, "forbidden", "Only an owner can change an owner's role or make someone an owner.")
        }
        var changes: [String] = []
        if let name = patch.name { staff.name = try InputRules.name(name); changes.append("name") }
        if let email = patch.email {
            let normalized = try InputRules.email(email)
            if try await services.organizations.staff(of: principal.organizationID).contains(where: { $0.email == normalized && $0.id != staff.id }) {
                throw APIError(.conflict, "email_taken", "A staff member with \(normalized) already exists.")
            }
            staff.email = normalized
            changes.append("email")
        }
        if let role = patch.role {
            staff.role = role
            if patch.permissions == nil { staff.permissions = role.defaultPermissions }
            changes.append("role")
        }
        if let permissions = patch.permissions { staff.permissions = Set(permissions); changes.append("permissions") }
        if let password = patch.password { staff.passwordHash = Bcrypt.hash(try InputRules.password(password), cost: 10); changes.append("password") }
        if let threshold = patch.lowBalanceThreshold {
            staff.lowBalanceThreshold = try InputRules.credits(threshold, field: "low_balance_threshold")
            changes.append("low balance threshold")
        }
        if let credits = patch.creditsPerMonth {
            try await services.credits.checkAllotment(try InputRules.credits(credits, field: "credits_per_month"), for: staff, principal: principal)
            staff.monthlyAllotment = credits
            changes.append("credits per month (\(credits))")
        }
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "staff.updated",
                                message: "Staff member \(staff.name) updated: \(changes.isEmpty ? "no changes" : changes.joined(separator: ", ")).",
                                subjectType: "staff", subjectID: staff.id, at: services.now())
        try await services.organizations.updateStaff(staff, audit: audit)
        // A new password signs the staff member out of the portal everywhere (they sign in with it).
        if patch.password != nil { _ = try await WebSessionStore(database: services.database).deleteSessions(ofStaff: staff.id) }
        services.principals.invalidate()
        return staff
    }

    /// Deletes a staff member: their wallet's credits go back to the pool first (a ledger
    /// transfer), and their API keys are revoked.
    public func deleteStaff(_ principal: Principal, _ id: String) async throws {
        try principal.require(.manageSettings)
        let staff = try await staffMember(principal, id)
        if staff.id == principal.staff.id { throw APIError(.conflict, "cannot_delete_self", "You cannot delete yourself.") }
        if staff.role == .owner {
            let owners = try await services.organizations.staff(of: principal.organizationID).filter { $0.role == .owner }
            if owners.count <= 1 { throw APIError(.conflict, "last_owner", "An organisation keeps at least one owner.") }
            if principal.staff.role != .owner { throw APIError(.forbidden, "forbidden", "Only an owner can delete an owner.") }
        }
        if let wallet = staff.wallet {
            try await services.credits.returnWalletToPool(wallet, of: staff, principal: principal)
        }
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "staff.deleted",
                                message: "Staff member \(staff.name) (\(staff.email)) deleted.", subjectType: "staff", subjectID: staff.id,
                                at: services.now())
        try await services.organizations.deleteStaff(staff, at: services.now(), audit: audit)
        services.principals.invalidate()
    }

    // MARK: API keys

    /// Creates an API key acting as a staff member (the caller by default); the key is shown once.
    public func createKey(_ principal: Principal, _ input: NewAPIKeyInput) async throws -> (record: APIKeyRecord, key: String) {
        try principal.require(.manageSettings)
        var staff = principal.staff
        if let staffID = input.staffID { staff = try await staffMember(principal, staffID) }
        let made = APIKeys.make()
        let record = APIKeyRecord(id: made.id, organizationID: principal.organizationID, staffID: staff.id,
                                  name: try InputRules.name(input.name, limit: 100), secretHash: made.hash, createdAt: services.now(), revokedAt: nil)
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "api_key.created",
                                message: "API key \(record.name) created for \(staff.name).", subjectType: "api_key", subjectID: record.id,
                                at: record.createdAt)
        try await services.organizations.addKey(record, audit: audit)
        return (record, made.key)
    }

    /// Revokes a key of the principal's organisation.
    public func revokeKey(_ principal: Principal, _ id: String) async throws {
        try principal.require(.manageSettings)
        guard let key = try await services.organizations.keys(of: principal.organizationID).first(where: { $0.id == id }), key.revokedAt == nil else {
            throw APIError.notFound("API key \(id)")
        }
        let audit = AuditRecord(organization: principal.organizationID, actor: principal.actor, action: "api_key.revoked",
                                message: "API key \(key.name) revoked.", subjectType: "api_key", subjectID: key.id, at: services.now())
        try await services.organizations.revokeKey(id, of: principal.organizationID, at: services.now(), audit: audit)
        services.principals.invalidate()
    }
}
