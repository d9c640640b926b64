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

/// `POST /v1/sms/numbers`.
public struct NumberInput: APIInput, Sendable {
    public var areaCode: String
    enum CodingKeys: String, CodingKey { case areaCode = "area_code" }
    public static let fields = JSONFields(["area_code"])
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
    let now: @Sendable () -> Date

    public init(
        numbers: NumberStore,
        sendingNumbers: SendingNumbers,
        provider: any SMSProvider,
        credits: CreditService,
        now: @escaping @Sendable () -> Date
    ) {
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

    /// Asks for a number in an area code (after the brand was submitted).
    public func requestNumber(_ principal: Principal, areaCode: String) async throws -> SetupView {
        try principal.require(.manageSettings)
        guard areaCode.count == 3, areaCode.allSatisfy(\.isASCIIDigit), areaCode.first != "0", areaCode.first != "1"
        else {
            throw RegistrationError.areaCodeInvalid
        }
        guard let brand = try await numbers.brand(of: principal.organizationID), brand.status != .failed else {
            throw RegistrationError.brandRequired
        }
        let providerID: String
        do { providerID = try await provider.requestNumber(areaCode: areaCode) } catch {
            throw RegistrationError.provider(error)
        }
        let request = NumberRequest(
            id: Identifier.make("num_"),
            organizationID: principal.organizationID,
            areaCode: areaCode,
            status: .pending,
            providerID: providerID,
            number: nil,
            failureMessage: nil,
            requestedAt: now()
        )
        try await numbers.addRequest(
            request,
            audit: AuditRecord(
                organization: principal.organizationID,
                actor: principal.actor,
                action: .numberRequested,
                message: "Phone number registration in area code \(areaCode) is in process.",
                at: now()
            )
        )
        return try await view(principal)
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
    }
}
