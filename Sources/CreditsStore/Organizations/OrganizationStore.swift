import CreditsCore
import Foundation
import SQLKit

/// Organisations, staff and API keys.
public struct OrganizationStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    // MARK: Organisations

    /// Creates an organisation with its ledger accounts, its owner and a first API key, with its
    /// audit entry, all in one transaction.
    public func create(_ organization: Organization, owner: StaffMember, key: APIKeyRecord, audit: AuditRecord)
        async throws
    {
        let settings = String(
            decoding: try OrganizationStore.jsonEncoder.encode(organization.smsSettings),
            as: UTF8.self
        )
        try await database.transaction { sql in
            try await OrganizationRecord.insert(
                id: organization.id,
                name: organization.name,
                country: organization.country,
                timeZone: organization.timeZone,
                at: organization.createdAt,
                on: sql
            )
            try await sql.raw(
                """
                UPDATE organizations SET credit_mode = \(bind: organization.creditMode.rawValue), sms_settings = \(bind: settings),
                    account_name = \(bind: organization.accountName)
                WHERE id = \(bind: organization.id.rawValue)
                """
            ).run()
            try await OrganizationStore.insertStaff(owner, on: sql)
            try await OrganizationStore.insertKey(key, on: sql)
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// One organisation.
    public func organization(_ id: OrganizationID) async throws -> Organization? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT id, name, account_name, country, time_zone, credit_mode, sms_settings, created_at, allotment_day, spam_at
                FROM organizations WHERE id = \(bind: id.rawValue)
                """
            ).first().map(OrganizationStore.organization)
        }
    }

    /// Every organisation's id (for schedulers).
    public func organizationIDs() async throws -> [OrganizationID] {
        try await database.read { sql in
            try await sql.raw("SELECT id FROM organizations ORDER BY id").all().map {
                OrganizationID(try $0.value("id"))
            }
        }
    }

    static func organization(_ row: any SQLRow) throws -> Organization {
        let settingsText: String = try row.value("sms_settings")
        let timeZone: String = try row.value("time_zone")
        let settings =
            (try? JSONDecoder().decode(SMSSettings.self, from: Data(settingsText.utf8)))
            ?? .defaults(timeZone: timeZone)
        guard let country = Country(rawValue: try row.value("country")),
            let mode = CreditMode(rawValue: try row.value("credit_mode"))
        else { throw StoreError.unreadableRow("organization") }
        let name: String = try row.value("name")
        let account: String = try row.value("account_name")
        var organization = Organization(
            id: OrganizationID(try row.value("id")),
            name: name,
            accountName: account.isEmpty ? name : account,
            country: country,
            timeZone: timeZone,
            creditMode: mode,
            smsSettings: settings,
            createdAt: try row.date("created_at")
        )
        organization.allotmentDay = try row.value("allotment_day")
        organization.markedSpamAt = try row.optionalDate("spam_at")
        return organization
    }

    /// Sets the credit mode with its audit entry in the caller's unit of work.
    public static func setCreditMode(
        _ id: OrganizationID,
        to mode: CreditMode,
        audit: AuditRecord,
        in work: UnitOfWork
    ) async throws {
        try await work.sql.raw(
            "UPDATE organizations SET credit_mode = \(bind: mode.rawValue) WHERE id = \(bind: id.rawValue)"
        ).run()
        try await AuditStore.insert([audit], in: work)
    }

    /// Makes a staff member's wallet, in the caller's unit of work.
    @discardableResult
    public static func giveWallet(
        to staff: String,
        of organization: OrganizationID,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> AccountID {
        let wallet = try await SQLLedgerStore.createWallet(for: organization, staff: staff, at: instant, on: work.sql)
        try await work.sql.raw(
            "UPDATE staff SET wallet_account_id = \(bind: wallet.rawValue) WHERE id = \(bind: staff) AND wallet_account_id IS NULL"
        ).run()
        return wallet
    }

    /// Sets the day of the month allotments are added and numbers charged, with its audit entry.
    public func setAllotmentDay(_ id: OrganizationID, day: Int, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                "UPDATE organizations SET allotment_day = \(bind: day) WHERE id = \(bind: id.rawValue)"
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// Marks an organisation as spam, with its audit entry, in the caller's unit of work.
    public static func markSpam(_ id: OrganizationID, at instant: Date, audit: AuditRecord, in work: UnitOfWork)
        async throws
    {
        try await work.sql.raw(
            "UPDATE organizations SET spam_at = \(bind: instant.milliseconds) WHERE id = \(bind: id.rawValue) AND spam_at IS NULL"
        ).run()
        try await AuditStore.insert([audit], in: work)
    }

    /// Claims one monthly run (allotments, number charges, the monthly fee) of an organisation
    /// for the month starting at `period`, in the caller's unit of work; false when it was done.
    public static func claimMonthlyRun(
        _ id: OrganizationID,
        kind: String,
        period: Date,
        at instant: Date,
        in work: UnitOfWork
    ) async throws -> Bool {
        try await !work.sql.raw(
            """
            INSERT INTO monthly_runs (organization_id, kind, period_start, created_at)
            VALUES (\(bind: id.rawValue), \(bind: kind), \(bind: period.milliseconds), \(bind: instant.milliseconds))
            ON CONFLICT (organization_id, kind, period_start) DO NOTHING RETURNING organization_id
            """
        ).all().isEmpty
    }

    /// Whether a monthly run was done.
    public func monthlyRunDone(_ id: OrganizationID, kind: String, period: Date) async throws -> Bool {
        try await database.read { sql in
            try await !sql.raw(
                """
                SELECT 1 AS done FROM monthly_runs WHERE organization_id = \(bind: id.rawValue) AND kind = \(bind: kind)
                  AND period_start = \(bind: period.milliseconds)
                """
            ).all().isEmpty
        }
    }

    /// Replaces the SMS settings, with an audit entry, in one transaction.
    public func updateSettings(_ id: OrganizationID, settings: SMSSettings, audit: AuditRecord) async throws {
        let text = String(decoding: try OrganizationStore.jsonEncoder.encode(settings), as: UTF8.self)
        try await database.transaction { sql in
            try await sql.raw("UPDATE organizations SET sms_settings = \(bind: text) WHERE id = \(bind: id.rawValue)")
                .run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// Renames an organisation (its display name, `{{account}}` in replies and on invoices), with
    /// an audit entry, in one transaction.
    public func rename(_ id: OrganizationID, to name: String, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            try await sql.raw("UPDATE organizations SET name = \(bind: name) WHERE id = \(bind: id.rawValue)").run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    // MARK: Staff

    static func insertStaff(_ staff: StaffMember, on sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            INSERT INTO staff (id, organization_id, name, email, role, permissions, password_hash, wallet_account_id,
                               monthly_allotment, low_balance_threshold, created_at, numbers)
            VALUES (\(bind: staff.id), \(bind: staff.organizationID.rawValue), \(bind: staff.name), \(bind: staff.email),
                    \(bind: staff.role.rawValue), \(bind: permissionText(staff.permissions)), \(bind: staff.passwordHash),
                    \(bind: staff.wallet?.rawValue), \(bind: staff.monthlyAllotment.milli), \(bind: staff.lowBalanceThreshold?.milli),
                    \(bind: staff.createdAt.milliseconds), \(bind: staff.numbers.joined(separator: ",")))
            """
        ).run()
    }

    static func permissionText(_ permissions: Set<Permission>) -> String {
        permissions.map(\.rawValue).sorted().joined(separator: ",")
    }

    static let staffColumns = """
        id, organization_id, name, email, role, permissions, password_hash, wallet_account_id, monthly_allotment,
        low_balance_threshold, created_at, numbers
        """

    static func staff(_ row: any SQLRow) throws -> StaffMember {
        guard let role = Role(rawValue: try row.value("role")) else { throw StoreError.unreadableRow("staff role") }
        let permissions = Set(
            (try row.value("permissions", as: String.self)).split(separator: ",").compactMap {
                Permission(rawValue: String($0))
            }
        )
        var member = StaffMember(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            name: try row.value("name"),
            email: try row.value("email"),
            role: role,
            permissions: permissions,
            wallet: try row.optional("wallet_account_id", as: String.self).map(AccountID.init),
            monthlyAllotment: Credits(milli: try row.value("monthly_allotment")),
            lowBalanceThreshold: try row.optional("low_balance_threshold", as: Int64.self).map(Credits.init(milli:)),
            createdAt: try row.date("created_at"),
            passwordHash: try row.optional("password_hash")
        )
        member.numbers = try row.value("numbers", as: String.self).split(separator: ",").map(String.init)
        return member
    }

    /// Adds a staff member (with a wallet made in the same transaction when `walletNeeded`).
    public func addStaff(_ staff: StaffMember, walletNeeded: Bool, audit: AuditRecord) async throws -> StaffMember {
        try await database.transaction { sql in
            var created = staff
            if walletNeeded {
                created.wallet = try await SQLLedgerStore.createWallet(
                    for: staff.organizationID,
                    staff: staff.id,
                    at: staff.createdAt,
                    on: sql
                )
            }
            try await OrganizationStore.insertStaff(created, on: sql)
            try await AuditStore.insert([audit], on: sql)
            return created
        }
    }

    /// Staff of an organisation who have not been deleted.
    public func staff(of organization: OrganizationID) async throws -> [StaffMember] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: OrganizationStore.staffColumns) FROM staff
                WHERE organization_id = \(bind: organization.rawValue) AND deleted_at IS NULL ORDER BY created_at, id
                """
            ).all().map(OrganizationStore.staff)
        }
    }

    /// A page of an organisation's staff, oldest first, after `cursor`.
    public func staff(of organization: OrganizationID, after cursor: RecencyCursor?, limit: Int) async throws
        -> [StaffMember]
    {
        try await database.read { sql in
            var query: SQLQueryString = """
                SELECT \(unsafeRaw: OrganizationStore.staffColumns) FROM staff
                WHERE organization_id = \(bind: organization.rawValue) AND deleted_at IS NULL
                """
            if let cursor { query += cursor.conditionOldestFirst(instant: "created_at", id: "id") }
            query += " ORDER BY created_at, id LIMIT \(bind: max(1, min(limit, 1000)))"
            return try await sql.raw(query).all().map(OrganizationStore.staff)
        }
    }

    /// One staff member of an organisation (nil for another organisation's or a deleted one).
    public func staffMember(_ id: String, of organization: OrganizationID) async throws -> StaffMember? {
        try await database.read { sql in try await OrganizationStore.staffMember(id, of: organization, on: sql) }
    }

    static func staffMember(_ id: String, of organization: OrganizationID, on sql: any SQLDatabase) async throws
        -> StaffMember?
    {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: OrganizationStore.staffColumns) FROM staff
            WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue) AND deleted_at IS NULL
            """
        ).first().map(OrganizationStore.staff)
    }

    /// Staff members with this sign-in email, in any organisation.
    public func staffMembers(withEmail email: String) async throws -> [StaffMember] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: OrganizationStore.staffColumns) FROM staff WHERE email = \(bind: email.lowercased()) AND deleted_at IS NULL
                """
            ).all().map(OrganizationStore.staff)
        }
    }

    /// Saves a staff member's editable fields (name, email, role, permissions, allotment,
    /// threshold, password hash) with an audit entry; with `revokingKeysAt`, also revokes their
    /// API keys and returns how many. Refuses to leave the organisation without an owner.
    @discardableResult
    public func updateStaff(_ staff: StaffMember, audit: AuditRecord, revokingKeysAt revokedAt: Date? = nil)
        async throws -> Int
    {
        try await database.transaction { sql in
            if staff.role != .owner {
                try await OrganizationStore.keepAnOwner(besides: staff, on: sql, database: database)
            }
            // A reset link mailed before the address or the password changed must not work after.
            try await sql.raw(
                """
                UPDATE password_resets SET used_at = \(bind: audit.at.milliseconds)
                WHERE staff_id = \(bind: staff.id) AND used_at IS NULL
                  AND EXISTS (SELECT 1 FROM staff s WHERE s.id = \(bind: staff.id)
                              AND (s.email <> \(bind: staff.email)
                                   OR COALESCE(s.password_hash, '') <> COALESCE(\(bind: staff.passwordHash), '')))
                """
            ).run()
            try await sql.raw(
                """
                UPDATE staff SET name = \(bind: staff.name), email = \(bind: staff.email), role = \(bind: staff.role.rawValue),
                    permissions = \(bind: OrganizationStore.permissionText(staff.permissions)),
                    monthly_allotment = \(bind: staff.monthlyAllotment.milli),
                    low_balance_threshold = \(bind: staff.lowBalanceThreshold?.milli), password_hash = \(bind: staff.passwordHash),
                    numbers = \(bind: staff.numbers.joined(separator: ","))
                WHERE id = \(bind: staff.id) AND organization_id = \(bind: staff.organizationID.rawValue) AND deleted_at IS NULL
                """
            ).run()
            var revoked = 0
            if let revokedAt {
                revoked = try await sql.raw(
                    """
                    UPDATE api_keys SET revoked_at = \(bind: revokedAt.milliseconds)
                    WHERE staff_id = \(bind: staff.id) AND revoked_at IS NULL RETURNING id
                    """
                ).all().count
            }
            try await AuditStore.insert([audit], on: sql)
            return revoked
        }
    }

    /// Refuses a change that would leave the organisation with no owner: `staff` is about to stop
    /// being one (a demotion or a removal). The organisation is locked first, so two owners
    /// demoting each other at once cannot both succeed.
    static func keepAnOwner(besides staff: StaffMember, on sql: any SQLDatabase, database: any Database) async throws {
        try await database.lockOrganization(staff.organizationID.rawValue, on: sql)
        let others =
            try await sql.raw(
                """
                SELECT COUNT(*) AS n FROM staff WHERE organization_id = \(bind: staff.organizationID.rawValue) AND role = 'owner'
                  AND deleted_at IS NULL AND id <> \(bind: staff.id)
                """
            ).first().map { try $0.value("n", as: Int.self) } ?? 0
        let isOwnerNow =
            try await sql.raw(
                "SELECT id FROM staff WHERE id = \(bind: staff.id) AND role = 'owner' AND deleted_at IS NULL"
            ).first() != nil
        if isOwnerNow && others == 0 { throw StoreError.lastOwner }
    }

    /// Marks a staff member deleted and revokes their API keys (their wallet must be empty first).
    public func deleteStaff(_ staff: StaffMember, at instant: Date, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            try await OrganizationStore.keepAnOwner(besides: staff, on: sql, database: database)
            try await sql.raw(
                """
                UPDATE staff SET deleted_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: staff.id) AND organization_id = \(bind: staff.organizationID.rawValue)
                """
            ).run()
            try await sql.raw(
                """
                UPDATE api_keys SET revoked_at = \(bind: instant.milliseconds) WHERE staff_id = \(bind: staff.id) AND revoked_at IS NULL
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    // MARK: API keys

    static func insertKey(_ key: APIKeyRecord, on sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            INSERT INTO api_keys (id, organization_id, staff_id, name, secret_hash, created_at)
            VALUES (\(bind: key.id), \(bind: key.organizationID.rawValue), \(bind: key.staffID), \(bind: key.name),
                    \(bind: key.secretHash), \(bind: key.createdAt.milliseconds))
            """
        ).run()
    }

    static func key(_ row: any SQLRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            staffID: try row.value("staff_id"),
            name: try row.value("name"),
            secretHash: try row.value("secret_hash"),
            createdAt: try row.date("created_at"),
            revokedAt: try row.optionalDate("revoked_at")
        )
    }

    /// Adds an API key with an audit entry.
    public func addKey(_ key: APIKeyRecord, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            try await OrganizationStore.insertKey(key, on: sql)
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// A key by id, revoked or not (authentication checks).
    public func key(_ id: String) async throws -> APIKeyRecord? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT id, organization_id, staff_id, name, secret_hash, created_at, revoked_at FROM api_keys WHERE id = \(bind: id)
                """
            ).first().map(OrganizationStore.key)
        }
    }

    /// An organisation's keys.
    public func keys(of organization: OrganizationID) async throws -> [APIKeyRecord] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT id, organization_id, staff_id, name, secret_hash, created_at, revoked_at FROM api_keys
                WHERE organization_id = \(bind: organization.rawValue) ORDER BY created_at, id
                """
            ).all().map(OrganizationStore.key)
        }
    }

    /// A page of an organisation's API keys, oldest first, after `cursor`.
    public func keys(of organization: OrganizationID, after cursor: RecencyCursor?, limit: Int) async throws
        -> [APIKeyRecord]
    {
        try await database.read { sql in
            var query: SQLQueryString = """
                SELECT id, organization_id, staff_id, name, secret_hash, created_at, revoked_at FROM api_keys
                WHERE organization_id = \(bind: organization.rawValue)
                """
            if let cursor { query += cursor.conditionOldestFirst(instant: "created_at", id: "id") }
            query += " ORDER BY created_at, id LIMIT \(bind: max(1, min(limit, 1000)))"
            return try await sql.raw(query).all().map(OrganizationStore.key)
        }
    }

    /// Revokes a key with an audit entry.
    public func revokeKey(_ id: String, of organization: OrganizationID, at instant: Date, audit: AuditRecord)
        async throws
    {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE api_keys SET revoked_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue) AND revoked_at IS NULL
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }
}
