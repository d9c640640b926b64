import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// Organisations, their SMS settings, staff and API keys.
public struct AdministrationService: Sendable {
    let organizations: OrganizationStore
    let credits: CreditService
    let principals: PrincipalResolver
    let sessions: WebSessionStore
    /// The organisation's numbers, which staff may be limited to.
    let numbers: SendingNumbers
    let now: @Sendable () -> Date

    public init(
        organizations: OrganizationStore,
        credits: CreditService,
        principals: PrincipalResolver,
        sessions: WebSessionStore,
        numbers: SendingNumbers,
        now: @escaping @Sendable () -> Date
    ) {
        self.organizations = organizations
        self.credits = credits
        self.principals = principals
        self.sessions = sessions
        self.numbers = numbers
        self.now = now
    }

    /// What `textcredits orgs create` prints.
    public struct CreatedOrganization: Sendable {
        public var organization: Organization
        public var owner: StaffMember
        public var apiKey: String
        public var ownerPassword: String
    }

    /// Creates an organisation with its owner (a generated password unless one is given) and a
    /// first API key, in one transaction.
    public func createOrganization(
        name: String,
        country: Country,
        timeZone: String,
        creditMode: CreditMode,
        ownerName: String,
        ownerEmail: String,
        ownerPassword: String?,
        actor: Actor
    ) async throws -> CreatedOrganization {
        let name = try InputRules.name(name)
        guard TimeZone(identifier: timeZone) != nil else { throw StaffError.unknownTimeZone(timeZone) }
        let email = try InputRules.email(ownerEmail, field: "owner_email")
        let password =
            try ownerPassword.map { try InputRules.password($0, field: "owner_password") }
            ?? APIKeys.randomText(bytes: 9)
        let instant = now()
        let organization = Organization(
            id: OrganizationID(Identifier.make("org_")),
            name: name,
            accountName: AdministrationService.accountName(name),
            country: country,
            timeZone: timeZone,
            creditMode: creditMode,
            smsSettings: .defaults(timeZone: timeZone),
            createdAt: instant
        )
        let owner = StaffMember(
            id: Identifier.make("stf_"),
            organizationID: organization.id,
            name: try InputRules.name(ownerName, field: "owner_name"),
            email: email,
            role: .owner,
            permissions: Role.owner.defaultPermissions,
            wallet: nil,
            monthlyAllotment: .zero,
            lowBalanceThreshold: nil,
            createdAt: instant,
            passwordHash: Passwords.hash(password)
        )
        let key = APIKeys.make()
        let record = APIKeyRecord(
            id: key.id,
            organizationID: organization.id,
            staffID: owner.id,
            name: "First key",
            secretHash: key.hash,
            createdAt: instant,
            revokedAt: nil
        )
        let audit = AuditRecord(
            organization: organization.id,
            actor: actor,
            action: .organizationCreated,
            message: "Organisation \(organization.name) created with owner \(owner.name) (\(owner.email)).",
            subjectType: "organization",
            subjectID: organization.id.rawValue,
            at: instant
        )
        try await organizations.create(organization, owner: owner, key: record, audit: audit)
        return CreatedOrganization(organization: organization, owner: owner, apiKey: key.key, ownerPassword: password)
    }

    /// A short account name for `{{account}}`: lower-case letters and digits of the name.
    public static func accountName(_ name: String) -> String {
        let slug = String(
            name.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }
        )
        return slug.isEmpty ? "account" : String(slug.prefix(40))
    }

    // MARK: Settings

    /// Changes the organisation's display name: the name staff see, `{{account}}` in keyword
    /// replies, and the buyer on invoices when no legal name is set.
    public func renameOrganization(_ principal: Principal, to name: String) async throws -> Organization {
        try principal.require(.manageSettings)
        let name = try InputRules.name(name)
        let before = principal.organization.name
        if name != before {
            let audit = principal.organizationAudit(
                .organizationRenamed,
                "Organisation renamed from \(before) to \(name).",
                at: now()
            )
            try await organizations.rename(principal.organizationID, to: name, audit: audit)
        }
        return try await reloaded(principal, changed: name != before)
    }

    /// The organisation as stored after a change (cached principals forgotten when it changed).
    func reloaded(_ principal: Principal, changed: Bool) async throws -> Organization {
        if changed { principals.invalidate() }
        guard let organization = try await organizations.organization(principal.organizationID) else {
            throw NotFoundError("The organisation")
        }
        return organization
    }

    /// Sets the organisation's allotment day (1–28): staff allotments are added and phone
    /// numbers charged at local midnight of that day each month.
    public func setAllotmentDay(_ principal: Principal, to day: Int) async throws -> Organization {
        try principal.require(.manageSettings)
        guard (1...28).contains(day) else {
            throw InputError.outOfRange(
                field: "allotment_day",
                message: "allotment_day is a day of the month from 1 to 28."
            )
        }
        let before = principal.organization.allotmentDay
        if day != before {
            let audit = principal.organizationAudit(
                .allotmentDayChanged,
                "Allotment day set to the \(day)\(Self.ordinalSuffix(day)) of each month (it was the \(before)\(Self.ordinalSuffix(before))).",
                at: now()
            )
            try await organizations.setAllotmentDay(principal.organizationID, day: day, audit: audit)
        }
        return try await reloaded(principal, changed: day != before)
    }

    /// "st", "nd", "rd" or "th".
    static func ordinalSuffix(_ day: Int) -> String {
        if (11...13).contains(day % 100) { return "th" }
        switch day % 10 {
        case 1: return "st"
        case 2: return "nd"
        case 3: return "rd"
        default: return "th"
        }
    }

    /// Applies a settings patch; the error names the first field over its limit.
    public func updateSMSSettings(_ principal: Principal, _ patch: SMSSettingsPatch) async throws -> Organization {
        try principal.require(.manageSettings)
        let settings = try patch.applied(to: principal.organization.smsSettings).validated()
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .smsSettingsUpdated,
            message: "SMS settings updated.",
            subjectType: "organization",
            subjectID: principal.organizationID.rawValue,
            at: now()
        )
        try await organizations.updateSettings(principal.organizationID, settings: settings, audit: audit)
        principals.invalidate()
        guard let organization = try await organizations.organization(principal.organizationID) else {
            throw NotFoundError("The organisation")
        }
        return organization
    }

    // MARK: Staff

    /// Refuses an action on `staff` by someone who ranks below them (only owners touch owners).
    func requireRank(_ principal: Principal, over staff: StaffMember) throws(StaffError) {
        guard principal.staff.role.mayManage(staff.role) else { throw .outranked(name: staff.name, role: staff.role) }
    }

    /// Refuses giving a role above the giver's own, or permissions the giver does not have.
    func requireMayGive(_ principal: Principal, role: Role?, permissions: Set<Permission>?, adding: Bool)
        throws(StaffError)
    {
        if let role, !principal.staff.role.mayAssign(role) {
            throw role == .owner ? .ownerOnly(adding ? .addOwner : .changeOwnerRole) : .roleAboveYours(role)
        }
        if let extra = permissions?.subtracting(principal.staff.permissions).min() { throw .permissionNotYours(extra) }
    }

    /// Adds a staff member; in individual-credits mode staff (not owners or admins) get a wallet.
    public func addStaff(_ principal: Principal, _ input: NewStaffInput) async throws -> StaffMember {
        try principal.require(.manageSettings)
        let permissions = input.permissions.map(Set.init) ?? input.role.defaultPermissions
        try requireMayGive(principal, role: input.role, permissions: permissions, adding: true)
        let instant = now()
        var staff = StaffMember(
            id: Identifier.make("stf_"),
            organizationID: principal.organizationID,
            name: try InputRules.name(input.name),
            email: try InputRules.email(input.email),
            role: input.role,
            permissions: permissions,
            wallet: nil,
            monthlyAllotment: .zero,
            lowBalanceThreshold: nil,
            createdAt: instant,
            passwordHash: try input.password.map { Passwords.hash(try InputRules.password($0)) }
        )
        if try await organizations.staff(of: principal.organizationID).contains(where: { $0.email == staff.email }) {
            throw StaffError.emailTaken(staff.email)
        }
        if let allotment = input.creditsPerMonth {
            if staff.role.sharesPool, allotment.isPositive {
                throw StaffError.sharedCredits(name: staff.name, role: staff.role)
            }
            try await credits.checkAllotment(allotment, for: nil, principal: principal)
            staff.monthlyAllotment = allotment
        }
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .staffCreated,
            message: "Staff member \(staff.name) (\(staff.email)) added as \(staff.role.rawValue).",
            subjectType: "staff",
            subjectID: staff.id,
            at: instant
        )
        let needsWallet = principal.organization.creditMode == .individual && !staff.role.sharesPool
        return try await organizations.addStaff(staff, walletNeeded: needsWallet, audit: audit)
    }

    /// One staff member of the principal's organisation.
    func staffMember(_ principal: Principal, _ id: String) async throws -> StaffMember {
        guard let staff = try await organizations.staffMember(id, of: principal.organizationID) else {
            throw NotFoundError("Staff member \(id)")
        }
        return staff
    }

    /// A staff member as the API shows them: yourself to anyone, others (their email and
    /// permissions) only to those who manage settings.
    public func visibleStaffMember(_ principal: Principal, _ id: String) async throws -> StaffMember {
        if id != principal.staff.id { try principal.require(.manageSettings) }
        return try await staffMember(principal, id)
    }

    /// The Edit Credits dialog's figures for one staff member, and — when `credits` is given —
    /// what the server's rule says of that allotment ("Credits per Month cannot be greater
    /// than N"), so the dialog never keeps a copy of the rule.
    public func creditCapacity(_ principal: Principal, _ id: String, credits: Credits?) async throws
        -> AllotmentCapacityView
    {
        try principal.require(.manageUserCredits)
        let staff = try await staffMember(principal, id)
        var view = try await self.credits.allotmentCapacity(for: staff, principal: principal)
        if let credits {
            if staff.role.sharesPool, credits.isPositive {
                view.message = StaffError.sharedCredits(name: staff.name, role: staff.role).message
            } else {
                do {
                    try AllotmentRule.check(credits, capacity: view.maximum, othersTotal: .zero)
                } catch {
                    view.message = error.message
                }
            }
        }
        return view
    }

    /// The names people recognise for the organisation's actor references ("staff:ID" → "Dana
    /// Lee", "api_key:ID" → "API key Zapier"), for logs and histories that keep references. Names
    /// only: anyone in the organisation sees who did what, not their details.
    public func actorNames(_ principal: Principal) async throws -> [String: String] {
        var names: [String: String] = ["system": Actor.system.name]
        for member in try await organizations.staff(of: principal.organizationID) {
            names["staff:\(member.id)"] = member.name
        }
        for key in try await organizations.keys(of: principal.organizationID) {
            names["api_key:\(key.id)"] = "API key \(key.name)"
        }
        return names
    }

    /// The staff list, oldest first, a page at a time: everyone for those who manage settings,
    /// else only yourself.
    public func staff(_ principal: Principal, after cursor: RecencyCursor? = nil, limit: Int = 1000) async throws
        -> [StaffMember]
    {
        guard principal.can(.manageSettings) else { return cursor == nil ? [principal.staff] : [] }
        return try await organizations.staff(of: principal.organizationID, after: cursor, limit: limit)
    }

    /// Changes a staff member. Editing others needs manage-settings and a rank at least theirs
    /// (only owners touch owners); allotments need manage-user-credits. Your own new password
    /// needs your current one; setting someone else's ends their sessions and revokes their keys.
    /// The numbers someone is limited to, as E.164, each one of the organisation's numbers in
    /// use; an empty list gives back every number.
    func allowedNumbers(_ wanted: [String], principal: Principal) async throws -> [String] {
        guard !wanted.isEmpty else { return [] }
        let inUse = try await numbers.numbers(of: principal.organizationID).map(\.number)
        var chosen: [String] = []
        for raw in wanted {
            let number = (try? PhoneNumber(parsing: raw, defaultCountry: principal.organization.country).e164) ?? raw
            guard inUse.contains(number) else { throw StaffError.unknownNumber(raw) }
            if !chosen.contains(number) { chosen.append(number) }
        }
        return chosen
    }

    public func updateStaff(_ principal: Principal, _ id: String, _ patch: StaffPatch) async throws -> StaffMember {
        var staff = try await staffMember(principal, id)
        let editingSelf = staff.id == principal.staff.id
        let changesProfile =
            patch.name != nil || patch.email != nil || patch.password != nil || patch.lowBalanceThreshold != nil
        let changesAccess = patch.role != nil || patch.permissions != nil || patch.numbers != nil
        if changesAccess || (changesProfile && !editingSelf) { try principal.require(.manageSettings) }
        if patch.creditsPerMonth != nil { try principal.require(.manageUserCredits) }
        if staff.role == .owner, changesAccess, principal.staff.role != .owner {
            throw StaffError.ownerOnly(.changeOwnerRole)
        }
        if !editingSelf || changesAccess { try requireRank(principal, over: staff) }
        if changesAccess, editingSelf, principal.staff.role != .owner { throw StaffError.ownAccess }
        if changesAccess {
            // A new role without a list gives that role's defaults: those are what is given.
            let given = patch.permissions.map(Set.init) ?? patch.role?.defaultPermissions
            try requireMayGive(principal, role: patch.role, permissions: given, adding: false)
        }
        var resetsPassword = false
        if let password = patch.password {
            if editingSelf {
                guard let current = patch.currentPassword else { throw StaffError.currentPasswordRequired }
                guard try await Passwords.verify(current, hash: staff.passwordHash) else {
                    throw StaffError.currentPasswordWrong
                }
            } else {
                guard principal.staff.role.maySetPassword(of: staff.role) else {
                    throw StaffError.passwordResetNotAllowed(name: staff.name)
                }
                resetsPassword = true
            }
            staff.passwordHash = Passwords.hash(try InputRules.password(password))
        }
        var changes: [String] = []
        if let name = patch.name {
            staff.name = try InputRules.name(name)
            changes.append("name")
        }
        if let email = patch.email {
            let normalized = try InputRules.email(email)
            if try await organizations.staff(of: principal.organizationID).contains(where: {
                $0.email == normalized && $0.id != staff.id
            }) {
                throw StaffError.emailTaken(normalized)
            }
            staff.email = normalized
            changes.append("email")
        }
        if let role = patch.role {
            staff.role = role
            if patch.permissions == nil { staff.permissions = role.defaultPermissions }
            changes.append("role")
        }
        if let permissions = patch.permissions {
            staff.permissions = Set(permissions)
            changes.append("permissions")
        }
        if patch.permissions != nil, staff.role == .owner, staff.permissions != Role.owner.defaultPermissions {
            throw StaffError.ownerHoldsEveryPermission
        }
        if let wanted = patch.numbers {
            staff.numbers = try await allowedNumbers(wanted, principal: principal)
            changes.append(
                staff.numbers.isEmpty ? "numbers (every number)" : "numbers (\(staff.numbers.joined(separator: ", ")))"
            )
        }
        if patch.password != nil { changes.append("password") }
        if let threshold = patch.lowBalanceThreshold {
            staff.lowBalanceThreshold = try InputRules.credits(threshold, field: "low_balance_threshold")
            changes.append("low balance threshold")
        }
        if let allotment = patch.creditsPerMonth, staff.role.sharesPool, allotment.isPositive {
            throw StaffError.sharedCredits(name: staff.name, role: staff.role)
        }
        // Someone made an owner or admin joins the shared pool: their credits per month end.
        if patch.role != nil, staff.role.sharesPool, staff.monthlyAllotment.isPositive, patch.creditsPerMonth == nil {
            staff.monthlyAllotment = .zero
            changes.append("credits per month (0: \(staff.role.label.lowercased())s use the shared pool)")
        }
        if let allotment = patch.creditsPerMonth {
            try await credits.checkAllotment(
                try InputRules.credits(allotment, field: "credits_per_month"),
                for: staff,
                principal: principal
            )
            staff.monthlyAllotment = allotment
            changes.append("credits per month (\(allotment))")
        }
        let instant = now()
        var sentence: AuditText =
            "Staff member \(staff.name) updated: \(changes.isEmpty ? "no changes" : changes.joined(separator: ", "))."
        if resetsPassword {
            sentence =
                "Password of \(staff.name) reset by \(principal.actor.name); their sessions were ended and their API keys revoked. "
                + sentence
        }
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .staffUpdated,
            message: sentence,
            subjectType: "staff",
            subjectID: staff.id,
            at: instant
        )
        do {
            try await organizations.updateStaff(staff, audit: audit, revokingKeysAt: resetsPassword ? instant : nil)
        } catch StoreError.lastOwner {
            throw StaffError.lastOwner
        }
        // A new password signs the staff member out of the portal everywhere (they sign in with it).
        if patch.password != nil { _ = try await sessions.deleteSessions(ofStaff: staff.id) }
        principals.invalidate()
        return staff
    }

    /// Deletes a staff member: their wallet's credits go back to the pool first (a ledger
    /// transfer), and their API keys are revoked. Nobody removes someone who ranks above them,
    /// nor the last owner.
    public func deleteStaff(_ principal: Principal, _ id: String) async throws {
        try principal.require(.manageSettings)
        let staff = try await staffMember(principal, id)
        if staff.id == principal.staff.id { throw StaffError.cannotDeleteSelf }
        if staff.role == .owner, principal.staff.role != .owner { throw StaffError.ownerOnly(.deleteOwner) }
        try requireRank(principal, over: staff)
        if staff.role == .owner,
            try await organizations.staff(of: principal.organizationID).filter({ $0.role == .owner }).count <= 1
        {
            throw StaffError.lastOwner
        }
        if let wallet = staff.wallet {
            try await credits.returnWalletToPool(wallet, of: staff, principal: principal)
        }
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .staffDeleted,
            message: "Staff member \(staff.name) (\(staff.email)) deleted.",
            subjectType: "staff",
            subjectID: staff.id,
            at: now()
        )
        do {
            try await organizations.deleteStaff(staff, at: now(), audit: audit)
        } catch StoreError.lastOwner {
            throw StaffError.lastOwner
        }
        principals.invalidate()
    }

    // MARK: API keys

    /// Creates an API key acting as a staff member (the caller by default); the key is shown once.
    public func createKey(_ principal: Principal, _ input: NewAPIKeyInput) async throws -> (
        record: APIKeyRecord, key: String
    ) {
        try principal.require(.manageSettings)
        var staff = principal.staff
        if let staffID = input.staffID {
            staff = try await staffMember(principal, staffID)
            try requireRank(principal, over: staff)
        }
        return try await issueKey(named: input.name, for: staff, actor: principal.actor)
    }

    /// Creates an API key for a staff member from the command line (`textcredits keys create`): the
    /// operator runs the server and outranks every role, so only the staff member's organisation
    /// and the key's name are checked; the key is audited as the API's are and shown once.
    public func createKeyAsOperator(
        organization: OrganizationID,
        staffID: String?,
        email: String?,
        name: String,
        actor: Actor
    ) async throws -> (record: APIKeyRecord, key: String, staff: StaffMember) {
        guard try await organizations.organization(organization) != nil else {
            throw NotFoundError("Organization \(organization)")
        }
        let staff: StaffMember?
        if let staffID {
            staff = try await organizations.staffMember(staffID, of: organization)
        } else if let email {
            staff = try await organizations.staffMembers(withEmail: email).first { $0.organizationID == organization }
        } else {
            staff = nil
        }
        guard let staff else { throw NotFoundError("Staff member \(staffID ?? email ?? "")") }
        let made = try await issueKey(named: name, for: staff, actor: actor)
        return (made.record, made.key, staff)
    }

    /// Makes, stores and audits a key acting as `staff`; the secret is returned once.
    func issueKey(named name: String, for staff: StaffMember, actor: Actor) async throws -> (
        record: APIKeyRecord, key: String
    ) {
        let made = APIKeys.make()
        let record = APIKeyRecord(
            id: made.id,
            organizationID: staff.organizationID,
            staffID: staff.id,
            name: try InputRules.name(name, limit: 100),
            secretHash: made.hash,
            createdAt: now(),
            revokedAt: nil
        )
        let audit = AuditRecord(
            organization: staff.organizationID,
            actor: actor,
            action: .apiKeyCreated,
            message: "API key \(record.name) created for \(staff.name).",
            subjectType: "api_key",
            subjectID: record.id,
            at: record.createdAt
        )
        try await organizations.addKey(record, audit: audit)
        return (record, made.key)
    }

    /// The organisation's API keys (manage_settings).
    public func keys(_ principal: Principal, after cursor: RecencyCursor? = nil, limit: Int = 1000) async throws
        -> [APIKeyRecord]
    {
        try principal.require(.manageSettings)
        return try await organizations.keys(of: principal.organizationID, after: cursor, limit: limit)
    }

    /// Revokes a key of the principal's organisation.
    public func revokeKey(_ principal: Principal, _ id: String) async throws {
        try principal.require(.manageSettings)
        guard let key = try await organizations.key(id), key.organizationID == principal.organizationID else {
            throw NotFoundError("API key \(id)")
        }
        if let holder = try await organizations.staffMember(key.staffID, of: principal.organizationID) {
            try requireRank(principal, over: holder)
        }
        // Revoking is idempotent: a key already revoked (by hand, or with its holder's removal or
        // password reset) stays revoked, and saying so again changes nothing.
        guard key.revokedAt == nil else { return }
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .apiKeyRevoked,
            message: "API key \(key.name) revoked.",
            subjectType: "api_key",
            subjectID: key.id,
            at: now()
        )
        try await organizations.revokeKey(id, of: principal.organizationID, at: now(), audit: audit)
        principals.invalidate()
    }
}
