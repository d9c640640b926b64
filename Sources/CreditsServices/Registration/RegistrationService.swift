import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// `POST /v1/sms/brand`.
public struct BrandInput: APIInput, Sendable {
    public var brand: BrandRegistration
    public static let fields = JSONFields([
        "legal_name", "tax_id", "website", "email", "phone", "street", "city", "region", "postal_code", "vertical",
    ])

    public init(brand: BrandRegistration) { self.brand = brand }
    public init(from decoder: any Decoder) throws { brand = try BrandRegistration(from: decoder) }
}

/// `POST /v1/sms/numbers` and `POST /v1/numbers`.
public struct NumberInput: APIInput, Sendable {
    /// For a local number: three digits; for a toll-free one: a toll-free prefix (default 888).
    public var areaCode: String?
    /// "local" (default) or "toll_free".
    public var kind: String?
    /// For a toll-free number: what its verification tells the carriers (each has a default).
    public var verification: VerificationInput?
    enum CodingKeys: String, CodingKey {
        case kind, verification
        case areaCode = "area_code"
    }
    public static let fields = JSONFields([
        "area_code": nil, "kind": nil,
        "verification": JSONFields(["business_name", "website", "use_case_summary", "message_sample"]),
    ])

    /// The parts of a toll-free verification the organisation may word itself.
    public struct VerificationInput: Decodable, Sendable {
        public var businessName: String?
        public var website: String?
        public var useCaseSummary: String?
        public var messageSample: String?
        enum CodingKeys: String, CodingKey {
            case website
            case businessName = "business_name"
            case useCaseSummary = "use_case_summary"
            case messageSample = "message_sample"
        }
    }
}

/// `GET /v1/numbers`: one number in use.
public struct NumberView: Encodable, Sendable {
    public var id: String
    public var number: String
    public var kind: String
    /// The number this person's sends go from unless they name another.
    public var isDefault: Bool
    /// Whether this person may send from it (staff can be limited to some numbers).
    public var yours: Bool
    /// A toll-free number's verification: pending, verified or rejected (it sends once verified).
    public var verification: String?
    public var verificationMessage: String?
    /// Credits it costs each month.
    public var monthlyCredits: Int64
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, number, kind, yours, verification
        case isDefault = "default"
        case verificationMessage = "verification_message"
        case monthlyCredits = "monthly_credits"
        case createdAt = "created_at"
    }
}

/// The SMS setup screen: brand, number requests, numbers, and the balance beside them.
public struct SetupView: Encodable, Sendable {
    public struct Brand: Encodable, Sendable {
        public var status: RegistrationStatus
        public var failureReason: String?
        public var failureMessage: String?
        public var details: BrandRegistration?
        public var submittedAt: Date
        enum CodingKeys: String, CodingKey {
            case status, details
            case failureReason = "failure_reason"
            case failureMessage = "failure_message"
            case submittedAt = "submitted_at"
        }
    }

    public var brand: Brand?
    public var numberRequests: [NumberRequest]
    public var numbers: [AssignedNumber]
    public var availableCredits: Credits
    /// Whether brand registration is self-serve for this organisation (US only).
    public var selfServe: Bool

    enum CodingKeys: String, CodingKey {
        case brand, numbers
        case numberRequests = "number_requests"
        case availableCredits = "available_credits"
        case selfServe = "self_serve"
    }
}

/// Brand and number registration (seed: "Register Your Brand", "Register Your Phone Number",
/// "Reset Brand"), driven by the provider; a worker polls pending registrations.
public struct RegistrationService: Sendable {
    let numbers: NumberStore
    let sendingNumbers: SendingNumbers
    let provider: any SMSProvider
    let credits: CreditService
    let settlement: SettlementService
    /// The server's public address (the opt-in page a toll-free verification points at).
    let linkBase: @Sendable () -> String
    let now: @Sendable () -> Date

    public init(
        numbers: NumberStore,
        sendingNumbers: SendingNumbers,
        provider: any SMSProvider,
        credits: CreditService,
        settlement: SettlementService,
        linkBase: @escaping @Sendable () -> String,
        now: @escaping @Sendable () -> Date
    ) {
        self.settlement = settlement
        self.linkBase = linkBase
        self.numbers = numbers
        self.sendingNumbers = sendingNumbers
        self.provider = provider
        self.credits = credits
        self.now = now
    }

    public func view(_ principal: Principal) async throws -> SetupView {
        let brand = try await numbers.brand(of: principal.organizationID).map { record in
            SetupView.Brand(
                status: record.status,
                failureReason: record.failureReason,
                failureMessage: record.failureMessage,
                // The brand's tax id and contact details are for those who manage settings.
                details: principal.can(.manageSettings)
                    ? try? JSONDecoder().decode(BrandRegistration.self, from: Data(record.details.utf8)) : nil,
                submittedAt: record.submittedAt
            )
        }
        // Requests before numbers: a request read as assigned then has its number in the list
        // (both change in one transaction), so the screen never shows one without the other.
        let requests = try await numbers.requests(of: principal.organizationID)
        let assigned = try await sendingNumbers.numbers(of: principal.organizationID).map { number in
            var number = number
            number.monthlyCredits = credits.monthlyCredits(of: number, in: principal.organization.country).milli / 1000
            return number
        }
        let balances = try await credits.view(principal)
        return SetupView(
            brand: brand,
            numberRequests: requests,
            numbers: assigned,
            availableCredits: balances.pool.available,
            selfServe: principal.organization.country == .us
        )
    }

    /// Submits the brand (all fields required; US organisations only).
    public func registerBrand(_ principal: Principal, _ brand: BrandRegistration) async throws -> SetupView {
        try principal.require(.manageSettings)
        guard principal.organization.country == .us else { throw RegistrationError.notSelfServe }
        if let missing = brand.missingField { throw RegistrationError.fieldRequired(missing) }
        if let existing = try await numbers.brand(of: principal.organizationID), existing.status != .failed {
            throw RegistrationError.brandExists(status: existing.status.rawValue)
        }
        let providerID: String
        do { providerID = try await provider.registerBrand(brand) } catch { throw RegistrationError.provider(error) }
        let details = String(decoding: try JSONEncoder.api.encode(brand), as: UTF8.self)
        try await numbers.submitBrand(
            principal.organizationID,
            providerID: providerID,
            details: details,
            at: now(),
            audit: AuditRecord(
                organization: principal.organizationID,
                actor: principal.actor,
                action: .brandSubmitted,
                message: "Brand information submitted; brand registration is in process.",
                at: now()
            )
        )
        return try await view(principal)
    }

    /// Clears the brand so it can be entered again.
    public func resetBrand(_ principal: Principal) async throws -> SetupView {
        try principal.require(.manageSettings)
        try await numbers.resetBrand(
            principal.organizationID,
            audit: AuditRecord(
                organization: principal.organizationID,
                actor: principal.actor,
                action: .brandReset,
                message: "Brand registration reset.",
                at: now()
            )
        )
        return try await view(principal)
    }

    /// Asks for a local number in an area code (after the brand was submitted) or a toll-free one
    /// with a toll-free prefix.
    public func requestNumber(
        _ principal: Principal,
        areaCode: String?,
        kind: String? = nil,
        verification: NumberInput.VerificationInput? = nil
    ) async throws -> SetupView {
        try principal.require(.manageSettings)
        let tollFree: Bool
        switch kind ?? "local" {
        case "local": tollFree = false
        case "toll_free": tollFree = true
        default: throw RegistrationError.kindInvalid(kind ?? "")
        }
        let areaCode = areaCode ?? (tollFree ? "888" : "")
        guard areaCode.count == 3, areaCode.allSatisfy(\.isASCIIDigit), areaCode.first != "0", areaCode.first != "1",
            PhoneNumber.tollFreePrefixes.contains(areaCode) == tollFree
        else {
            throw tollFree ? RegistrationError.tollFreePrefixInvalid : RegistrationError.areaCodeInvalid
        }
        // A local (10DLC) number needs the brand; toll-free numbers are verified on their own.
        if !tollFree {
            guard let brand = try await numbers.brand(of: principal.organizationID), brand.status != .failed else {
                throw RegistrationError.brandRequired
            }
        }
        // The verification's wording is checked whatever the kind (a local number has none to use).
        let checked = verification == nil && !tollFree ? nil : try await tollFreeVerification(principal, verification)
        let details = tollFree ? checked : nil
        let providerID: String
        do { providerID = try await provider.requestNumber(areaCode: areaCode, tollFree: tollFree) } catch {
            throw RegistrationError.provider(error)
        }
        var request = NumberRequest(
            id: Identifier.make("num_"),
            organizationID: principal.organizationID,
            areaCode: areaCode,
            status: .pending,
            providerID: providerID,
            number: nil,
            failureMessage: nil,
            requestedAt: now()
        )
        request.kind = tollFree ? "toll_free" : "local"
        request.verification = try details.map { String(decoding: try JSONEncoder.api.encode($0), as: UTF8.self) }
        try await numbers.addRequest(
            request,
            audit: AuditRecord(
                organization: principal.organizationID,
                actor: principal.actor,
                action: .numberRequested,
                message: tollFree
                    ? "Toll-free number registration (\(areaCode)) is in process."
                    : "Phone number registration in area code \(areaCode) is in process.",
                at: now()
            )
        )
        return try await view(principal)
    }

    /// What a toll-free number's verification will say: the organisation's own words where it
    /// gave them, else its brand's, else its name; the opt-in page shows how people agree.
    func tollFreeVerification(_ principal: Principal, _ input: NumberInput.VerificationInput?) async throws
        -> TollFreeVerification
    {
        let brand = try await numbers.brand(of: principal.organizationID).flatMap {
            try? JSONDecoder().decode(BrandRegistration.self, from: Data($0.details.utf8))
        }
        let name = principal.organization.name
        let optIn = "\(linkBase())/join/\(principal.organizationID.rawValue)"
        func text(_ value: String?, _ field: String, limit: Int) throws -> String? {
            try value.map { try InputRules.name($0, field: "verification.\(field)", limit: limit) }
        }
        return TollFreeVerification(
            businessName: try text(input?.businessName, "business_name", limit: 200) ?? brand?.legalName ?? name,
            website: try text(input?.website, "website", limit: 200) ?? brand?.website ?? optIn,
            notificationEmail: principal.staff.email,
            useCaseSummary: try text(input?.useCaseSummary, "use_case_summary", limit: 1000)
                ?? "\(name) texts people who opted in to hear from it: schedules, reminders, closures and answers to their questions.",
            messageSample: try text(input?.messageSample, "message_sample", limit: 1000)
                ?? "\(name): practice moves to 5pm today. Reply STOP to opt out.",
            optInURL: optIn,
            messageVolume: "1,000"
        )
    }

    /// `GET /v1/numbers`: the numbers in use, the default first.
    public func numbersInUse(_ principal: Principal) async throws -> [NumberView] {
        let numbers = try await sendingNumbers.numbers(of: principal.organizationID)
        let allowed = sendingNumbers.allowed(numbers, for: principal.staff)
        let mine = allowed.map(\.number)
        return numbers.map { number in
            NumberView(
                id: String(number.number.filter(\.isASCIIDigit)),
                number: number.number,
                kind: number.kind,
                isDefault: number.number == allowed.first(where: \.maySend)?.number,
                yours: mine.contains(number.number),
                verification: number.verification,
                verificationMessage: number.verificationMessage,
                monthlyCredits: credits.monthlyCredits(of: number, in: principal.organization.country).milli / 1000,
                createdAt: number.createdAt
            )
        }
    }

    /// `DELETE /v1/numbers/{id}`: the number sends nothing more (new sends naming it are refused,
    /// texts still queued from it are canceled with their holds released); audited.
    public func release(_ principal: Principal, _ id: String) async throws {
        try principal.require(.manageSettings)
        guard let number = try await numbersInUse(principal).first(where: { $0.id == id }) else {
            throw NotFoundError("This number")
        }
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .numberReleased,
            message:
                "Phone number \(number.number) released: it sends nothing more; texts queued from it were canceled and their credits released.",
            subjectType: "number",
            subjectID: number.number,
            at: now()
        )
        guard try await settlement.release(number: number.number, organization: principal.organizationID, audit: audit)
        else { throw NotFoundError("This number") }
        // Given back to the provider too, so it is no longer paid for; if that fails the number
        // still sends nothing here, and the audit log says to give it back by hand.
        do {
            guard let request = try await numbers.requestProviderID(forNumber: number.number) else {
                // Assigned by the operator or before requests were kept: nothing to give back
                // here unless the provider sells numbers.
                guard number.kind != "test", provider.name != "simulator" else { return }
                throw ProviderError(
                    kind: .rejected,
                    code: "no_request",
                    message: "it was not bought through a request here"
                )
            }
            try await provider.releaseNumber(numberRequest: request)
        } catch let error as ProviderError {
            try await numbers.recordAudit(
                AuditRecord(
                    organization: principal.organizationID,
                    actor: .system,
                    action: .numberReleased,
                    message:
                        "Phone number \(number.number) could not be given back to the provider (\(error.message)); release it in the provider's console.",
                    subjectType: "number",
                    subjectID: number.number,
                    at: now()
                )
            )
        }
    }

    /// Moves pending registrations forward (a background job).
    public func poll() async throws {
        let now = now()
        for (organization, brand) in try await numbers.pendingBrands() {
            guard let state = try? await provider.brandState(brand.providerID, submittedAt: brand.submittedAt, now: now)
            else { continue }
            switch state {
            case .pending: continue
            case .completed:
                try await numbers.resolveBrand(
                    organization,
                    status: .registered,
                    reason: nil,
                    message: nil,
                    at: now,
                    audit: AuditRecord(
                        organization: organization,
                        actor: .system,
                        action: .brandRegistered,
                        message: "Brand registration completed.",
                        at: now
                    )
                )
            case .failed(let reason, let message):
                try await numbers.resolveBrand(
                    organization,
                    status: .failed,
                    reason: reason,
                    message: message,
                    at: now,
                    audit: AuditRecord(
                        organization: organization,
                        actor: .system,
                        action: .brandFailed,
                        message: AuditText(message ?? "Brand registration did not complete (\(reason))."),
                        at: now
                    )
                )
            }
        }
        for request in try await numbers.pendingRequests() {
            guard
                let state = try? await provider.numberState(
                    request.providerID,
                    requestedAt: request.requestedAt,
                    now: now
                )
            else { continue }
            switch state {
            case .pending: continue
            case .completed(let number):
                try await numbers.resolveRequest(
                    request,
                    number: number,
                    failure: nil,
                    provider: provider.name,
                    at: now,
                    audit: AuditRecord(
                        organization: request.organizationID,
                        actor: .system,
                        action: .numberAssigned,
                        message: "Phone number \(number ?? "") assigned.",
                        at: now
                    )
                )
            case .failed(_, let message):
                try await numbers.resolveRequest(
                    request,
                    number: nil,
                    failure: message,
                    provider: provider.name,
                    at: now,
                    audit: AuditRecord(
                        organization: request.organizationID,
                        actor: .system,
                        action: .numberFailed,
                        message: AuditText(message ?? "No number could be assigned."),
                        at: now
                    )
                )
            }
        }
        try await pollVerifications(at: now)
    }

    /// Submits the verification of each toll-free number assigned since the last round, and
    /// records the carriers' answer for those submitted.
    func pollVerifications(at now: Date) async throws {
        for pending in try await numbers.pendingVerifications() {
            guard let id = pending.verificationID, let submittedAt = pending.submittedAt else {
                guard let text = pending.details,
                    let details = try? JSONDecoder().decode(TollFreeVerification.self, from: Data(text.utf8)),
                    let id = try? await provider.verifyTollFree(numberRequest: pending.requestProviderID, details)
                else { continue }
                try await numbers.verificationSubmitted(
                    pending.number,
                    id: id,
                    at: now,
                    audit: AuditRecord(
                        organization: pending.organizationID,
                        actor: .system,
                        action: .tollFreeVerificationSubmitted,
                        message:
                            "Toll-free number \(pending.number) submitted for verification; it can send once the carriers approve it.",
                        subjectType: "number",
                        subjectID: pending.number,
                        at: now
                    )
                )
                continue
            }
            guard let state = try? await provider.tollFreeVerificationState(id, submittedAt: submittedAt, now: now)
            else {
                continue
            }
            switch state {
            case .pending: continue
            case .completed:
                try await numbers.resolveVerification(
                    pending.number,
                    verified: true,
                    message: nil,
                    audit: AuditRecord(
                        organization: pending.organizationID,
                        actor: .system,
                        action: .tollFreeVerified,
                        message: "Toll-free number \(pending.number) verified: it can send texts.",
                        subjectType: "number",
                        subjectID: pending.number,
                        at: now
                    )
                )
            case .failed(_, let message):
                let sentence = message ?? "Toll-free verification was rejected."
                try await numbers.resolveVerification(
                    pending.number,
                    verified: false,
                    message: sentence,
                    audit: AuditRecord(
                        organization: pending.organizationID,
                        actor: .system,
                        action: .tollFreeRejected,
                        message: "Toll-free number \(pending.number) cannot send: \(sentence)",
                        subjectType: "number",
                        subjectID: pending.number,
                        at: now
                    )
                )
            }
        }
    }
}
