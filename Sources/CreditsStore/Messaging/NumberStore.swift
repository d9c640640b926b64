import CreditsCore
import Foundation
import SQLKit

/// A phone number an organisation sends from.
public struct AssignedNumber: Sendable, Equatable, Codable {
    public var number: String
    public var kind: String
    public var provider: String
    public var createdAt: Date
    /// Credits the number costs each month (filled in by the service that knows the prices).
    public var monthlyCredits: Int64?
    /// A toll-free number's verification: "pending", "verified" or "rejected" (nil for others).
    public var verification: String?
    /// Why a verification was rejected, in the provider's words.
    public var verificationMessage: String?

    enum CodingKeys: String, CodingKey {
        case number, kind, provider, verification
        case createdAt = "created_at"
        case monthlyCredits = "monthly_credits"
        case verificationMessage = "verification_message"
    }

    /// Whether texts may go from it: a toll-free number only once its verification is approved.
    public var maySend: Bool { kind != "toll_free" || verification == "verified" }

    /// How a text from this number travels, which sets its price: a toll-free number sends at
    /// the toll-free rate, every other at the local one.
    public var textChannel: Channel { kind == "toll_free" ? .tollFree : .sms }
}

/// Where a brand or number registration stands.
public enum RegistrationStatus: String, Sendable, Codable {
    /// Submitted; the provider has not decided yet.
    case pending
    /// The brand is registered.
    case registered
    /// The number was assigned.
    case assigned
    /// The provider refused it.
    case failed
}

/// Brand registration as stored.
public struct BrandRecord: Sendable, Equatable {
    public var status: RegistrationStatus
    public var providerID: String
    public var details: String
    public var failureReason: String?
    public var failureMessage: String?
    public var submittedAt: Date
    public var updatedAt: Date
}

/// A request for a number in an area code.
public struct NumberRequest: Sendable, Equatable, Codable {
    public var id: String
    public var organizationID: OrganizationID
    public var areaCode: String
    public var status: RegistrationStatus
    public var providerID: String
    public var number: String?
    public var failureMessage: String?
    public var requestedAt: Date
    /// "local" or "toll_free".
    public var kind: String = "local"
    /// For a toll-free number: the verification details to submit once it is assigned (JSON).
    public var verification: String? = nil

    public init(
        id: String,
        organizationID: OrganizationID,
        areaCode: String,
        status: RegistrationStatus,
        providerID: String,
        number: String?,
        failureMessage: String?,
        requestedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.areaCode = areaCode
        self.status = status
        self.providerID = providerID
        self.number = number
        self.failureMessage = failureMessage
        self.requestedAt = requestedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, status, number, kind
        case organizationID = "organization_id"
        case areaCode = "area_code"
        case providerID = "provider_id"
        case failureMessage = "failure_message"
        case requestedAt = "requested_at"
    }
}

/// Numbers, brand registration and number requests; the server's own secrets.
public struct NumberStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// An organisation's numbers, local before toll-free before test, oldest first (the first is the one it sends from).
    public func numbers(of organization: OrganizationID) async throws -> [AssignedNumber] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT number, kind, provider, created_at, verification, verification_message FROM phone_numbers
                WHERE organization_id = \(bind: organization.rawValue) AND released_at IS NULL
                ORDER BY CASE kind WHEN 'local' THEN 0 WHEN 'toll_free' THEN 1 ELSE 2 END, created_at
                """
            ).all().map {
                var number = AssignedNumber(
                    number: try $0.value("number"),
                    kind: try $0.value("kind"),
                    provider: try $0.value("provider"),
                    createdAt: try $0.date("created_at")
                )
                number.verification = try $0.optional("verification")
                number.verificationMessage = try $0.optional("verification_message")
                return number
            }
        }
    }

    /// Releases one of an organisation's numbers, with its audit entry, in the caller's unit of
    /// work; false when it has no such number in use.
    public static func release(
        _ number: String,
        of organization: OrganizationID,
        at instant: Date,
        audit: AuditRecord,
        in work: UnitOfWork
    ) async throws -> Bool {
        let changed = try await work.sql.raw(
            """
            UPDATE phone_numbers SET released_at = \(bind: instant.milliseconds)
            WHERE number = \(bind: number) AND organization_id = \(bind: organization.rawValue) AND released_at IS NULL
            RETURNING number
            """
        ).all()
        guard !changed.isEmpty else { return false }
        try await AuditStore.insert([audit], in: work)
        return true
    }

    /// The organisation a number belongs to.
    public func organization(forNumber number: String) async throws -> OrganizationID? {
        try await database.read { sql in
            try await sql.raw(
                "SELECT organization_id FROM phone_numbers WHERE number = \(bind: number) AND released_at IS NULL"
            ).first()
                .map { OrganizationID(try $0.value("organization_id")) }
        }
    }

    /// Assigns a number (unique across organisations).
    public func assign(
        _ number: String,
        to organization: OrganizationID,
        kind: String,
        provider: String,
        at instant: Date
    ) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO phone_numbers (number, organization_id, kind, provider, created_at, verification)
                VALUES (\(bind: number), \(bind: organization.rawValue), \(bind: kind), \(bind: provider), \(bind: instant.milliseconds),
                        \(bind: kind == "toll_free" ? "verified" : nil as String?))
                ON CONFLICT (number) DO UPDATE SET organization_id = excluded.organization_id, kind = excluded.kind,
                    provider = excluded.provider, created_at = excluded.created_at, released_at = NULL,
                    verification = excluded.verification, verification_id = NULL, verification_message = NULL,
                    verification_submitted_at = NULL, request_id = excluded.request_id
                WHERE phone_numbers.released_at IS NOT NULL
                """
            ).run()
        }
    }

    /// Gives an organisation a Simulator test number (+1 555 2xx xxxx) if it has none.
    public func ensureTestNumber(for organization: OrganizationID, at instant: Date) async throws -> String {
        if let existing = try await numbers(of: organization).first(where: { $0.kind == "test" }) {
            return existing.number
        }
        for _ in 0..<20 {
            let candidate = "+15552\(String(format: "%06d", Int.random(in: 0...999_999)))"
            if ["0001", "0002", "0007"].contains(where: { candidate.hasSuffix($0) }) { continue }
            try await assign(candidate, to: organization, kind: "test", provider: "simulator", at: instant)
            if try await self.organization(forNumber: candidate) == organization { return candidate }
        }
        throw StoreError.conflict("no free test number")
    }

    // MARK: Brand

    public func brand(of organization: OrganizationID) async throws -> BrandRecord? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT status, provider_id, details, failure_reason, failure_message, submitted_at, updated_at
                FROM brand_registrations WHERE organization_id = \(bind: organization.rawValue)
                """
            ).first().map {
                BrandRecord(
                    status: try NumberStore.status($0),
                    providerID: try $0.value("provider_id"),
                    details: try $0.value("details"),
                    failureReason: try $0.optional("failure_reason"),
                    failureMessage: try $0.optional("failure_message"),
                    submittedAt: try $0.date("submitted_at"),
                    updatedAt: try $0.date("updated_at")
                )
            }
        }
    }

    /// Records a submitted brand (replacing a failed or reset one) with its audit entry.
    public func submitBrand(
        _ organization: OrganizationID,
        providerID: String,
        details: String,
        at instant: Date,
        audit: AuditRecord
    ) async throws {
        try await database.transaction { sql in
            try await sql.raw("DELETE FROM brand_registrations WHERE organization_id = \(bind: organization.rawValue)")
                .run()
            try await sql.raw(
                """
                INSERT INTO brand_registrations (organization_id, status, provider_id, details, submitted_at, updated_at)
                VALUES (\(bind: organization.rawValue), 'pending', \(bind: providerID), \(bind: details), \(bind: instant.milliseconds),
                        \(bind: instant.milliseconds))
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// Moves a pending brand to registered or failed.
    public func resolveBrand(
        _ organization: OrganizationID,
        status: RegistrationStatus,
        reason: String?,
        message: String?,
        at instant: Date,
        audit: AuditRecord
    ) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE brand_registrations SET status = \(bind: status.rawValue), failure_reason = \(bind: reason), failure_message = \(bind: message),
                    updated_at = \(bind: instant.milliseconds)
                WHERE organization_id = \(bind: organization.rawValue) AND status = 'pending'
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// Clears the brand so it can be entered again ("Reset Brand").
    public func resetBrand(_ organization: OrganizationID, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            try await sql.raw("DELETE FROM brand_registrations WHERE organization_id = \(bind: organization.rawValue)")
                .run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// Organisations with a brand waiting on the provider.
    public func pendingBrands() async throws -> [(OrganizationID, BrandRecord)] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT organization_id, status, provider_id, details, failure_reason, failure_message, submitted_at, updated_at
                FROM brand_registrations WHERE status = 'pending' LIMIT 500
                """
            ).all().map {
                (
                    OrganizationID(try $0.value("organization_id")),
                    BrandRecord(
                        status: try NumberStore.status($0),
                        providerID: try $0.value("provider_id"),
                        details: try $0.value("details"),
                        failureReason: nil,
                        failureMessage: nil,
                        submittedAt: try $0.date("submitted_at"),
                        updatedAt: try $0.date("updated_at")
                    )
                )
            }
        }
    }

    // MARK: Number requests

    static func request(_ row: any SQLRow) throws -> NumberRequest {
        var request = NumberRequest(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            areaCode: try row.value("area_code"),
            status: try NumberStore.status(row),
            providerID: try row.value("provider_id"),
            number: try row.optional("number"),
            failureMessage: try row.optional("failure_message"),
            requestedAt: try row.date("requested_at")
        )
        request.kind = try row.value("kind")
        return request
    }

    public func addRequest(_ request: NumberRequest, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO number_requests (id, organization_id, area_code, status, provider_id, requested_at, updated_at, kind,
                                             verification)
                VALUES (\(bind: request.id), \(bind: request.organizationID.rawValue), \(bind: request.areaCode), 'pending', \(bind: request.providerID),
                        \(bind: request.requestedAt.milliseconds), \(bind: request.requestedAt.milliseconds), \(bind: request.kind),
                        \(bind: request.verification))
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    public func requests(of organization: OrganizationID) async throws -> [NumberRequest] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT id, organization_id, area_code, status, provider_id, number, failure_message, requested_at, kind FROM number_requests
                WHERE organization_id = \(bind: organization.rawValue) ORDER BY requested_at DESC LIMIT 20
                """
            ).all().map(NumberStore.request)
        }
    }

    public func pendingRequests() async throws -> [NumberRequest] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT id, organization_id, area_code, status, provider_id, number, failure_message, requested_at, kind FROM number_requests
                WHERE status = 'pending' ORDER BY requested_at LIMIT 500
                """
            ).all().map(NumberStore.request)
        }
    }

    /// Completes a request: assigns the number, or records why there is none.
    public func resolveRequest(
        _ request: NumberRequest,
        number: String?,
        failure: String?,
        provider: String,
        at instant: Date,
        audit: AuditRecord
    ) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE number_requests SET status = \(bind: (number == nil ? RegistrationStatus.failed : .assigned).rawValue), number = \(bind: number),
                    failure_message = \(bind: failure), updated_at = \(bind: instant.milliseconds)
                WHERE id = \(bind: request.id) AND status = 'pending'
                """
            ).run()
            if let number {
                try await sql.raw(
                    """
                    INSERT INTO phone_numbers (number, organization_id, kind, provider, created_at, verification, request_id)
                    VALUES (\(bind: number), \(bind: request.organizationID.rawValue), \(bind: request.kind), \(bind: provider), \(bind: instant.milliseconds),
                            \(bind: request.kind == "toll_free" ? "pending" : nil as String?), \(bind: request.id))
                    ON CONFLICT (number) DO UPDATE SET organization_id = excluded.organization_id, kind = excluded.kind,
                    provider = excluded.provider, created_at = excluded.created_at, released_at = NULL,
                    verification = excluded.verification, verification_id = NULL, verification_message = NULL,
                    verification_submitted_at = NULL, request_id = excluded.request_id
                    WHERE phone_numbers.released_at IS NOT NULL
                    """
                ).run()
            }
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// The provider's id of the request that brought a number (nil for one assigned otherwise).
    public func requestProviderID(forNumber number: String) async throws -> String? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT r.provider_id FROM phone_numbers p JOIN number_requests r ON r.id = p.request_id
                WHERE p.number = \(bind: number)
                """
            ).first().map { try $0.decode(column: "provider_id", as: String.self) }
        }
    }

    /// Records what happened to a number outside a change of its own (the provider's answer).
    public func recordAudit(_ record: AuditRecord) async throws {
        try await database.transaction { sql in try await AuditStore.insert([record], on: sql) }
    }

    // MARK: Toll-free verification

    /// A toll-free number whose verification is pending: to submit (no id yet) or to follow.
    public struct PendingVerification: Sendable, Equatable {
        public var number: String
        public var organizationID: OrganizationID
        /// The provider's id of the request that brought the number.
        public var requestProviderID: String
        /// The details to submit, as the request kept them (JSON).
        public var details: String?
        public var verificationID: String?
        public var submittedAt: Date?
    }

    /// Toll-free numbers in use whose verification is pending, oldest first.
    public func pendingVerifications() async throws -> [PendingVerification] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT p.number, p.organization_id, p.verification_id, p.verification_submitted_at, r.provider_id, r.verification AS details
                FROM phone_numbers p LEFT JOIN number_requests r ON r.id = p.request_id
                WHERE p.verification = 'pending' AND p.released_at IS NULL ORDER BY p.created_at LIMIT 500
                """
            ).all().map {
                PendingVerification(
                    number: try $0.value("number"),
                    organizationID: OrganizationID(try $0.value("organization_id")),
                    requestProviderID: try $0.optional("provider_id") ?? "",
                    details: try $0.optional("details"),
                    verificationID: try $0.optional("verification_id"),
                    submittedAt: try $0.optionalDate("verification_submitted_at")
                )
            }
        }
    }

    /// Records that a number's verification was submitted to the provider.
    public func verificationSubmitted(_ number: String, id: String, at instant: Date, audit: AuditRecord) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE phone_numbers SET verification_id = \(bind: id), verification_submitted_at = \(bind: instant.milliseconds)
                WHERE number = \(bind: number) AND verification = 'pending' AND verification_id IS NULL
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    /// Records a verification's outcome ("verified" or "rejected", with the provider's sentence).
    public func resolveVerification(_ number: String, verified: Bool, message: String?, audit: AuditRecord)
        async throws
    {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE phone_numbers SET verification = \(bind: verified ? "verified" : "rejected"),
                    verification_message = \(bind: message)
                WHERE number = \(bind: number) AND verification = 'pending'
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }

    static func status(_ row: any SQLRow) throws -> RegistrationStatus {
        guard let status = RegistrationStatus(rawValue: try row.value("status")) else {
            throw StoreError.unreadableRow("registration status")
        }
        return status
    }

    // MARK: Secrets

    /// A named secret of this server: the one stored first, or `candidate` if there is none yet
    /// (then stable; several servers starting at once agree on one).
    public func secret(_ name: String, orCreate candidate: String, at instant: Date) async throws -> String {
        if let existing = try await secret(name) { return existing }
        let value = candidate
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO server_secrets (name, value, created_at) VALUES (\(bind: name), \(bind: value), \(bind: instant.milliseconds))
                ON CONFLICT (name) DO NOTHING
                """
            ).run()
        }
        return try await secret(name) ?? value
    }

    /// A server secret, or nil when no server has made it yet.
    public func secret(_ name: String) async throws -> String? {
        try await database.read { sql in
            try await sql.raw("SELECT value FROM server_secrets WHERE name = \(bind: name)").first().map {
                try $0.value("value", as: String.self)
            }
        }
    }
}
