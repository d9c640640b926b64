import CreditsCore
import Foundation

/// Where the Sandbox keeps charges by idempotency key, so a repeated request after a restart
/// returns the first outcome (the server keeps it in its database).
public protocol SandboxChargeLog: Sendable {
    /// Records `outcome` for the key, or returns the outcome already recorded for it.
    func record(_ outcome: SandboxChargeOutcome) async throws -> SandboxChargeOutcome
    /// The outcome recorded for the key, if any.
    func find(_ idempotencyKey: String) async throws -> SandboxChargeOutcome?
}

/// A charge attempt the Sandbox decided.
public struct SandboxChargeOutcome: Sendable, Equatable {
    public var idempotencyKey: String
    public var amountCents: Int64
    public var paymentMethodToken: String
    /// The charge id when it succeeded.
    public var chargeID: String?
    /// The refusal otherwise.
    public var error: PaymentError?

    public init(
        idempotencyKey: String,
        amountCents: Int64,
        paymentMethodToken: String,
        chargeID: String?,
        error: PaymentError?
    ) {
        precondition((chargeID == nil) != (error == nil), "an outcome is a charge or an error")
        self.idempotencyKey = idempotencyKey
        self.amountCents = amountCents
        self.paymentMethodToken = paymentMethodToken
        self.chargeID = chargeID
        self.error = error
    }
}

/// The built-in gateway: behaves like Stripe's test mode, so a fresh server can take "payments".
///
/// Cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, 4000 0000 0000 9995
/// has insufficient funds, 4000 0000 0000 0069 is expired, and 4000 0000 0000 0077 is charged
/// but the first answer for each charge is lost (as when the network drops after the gateway
/// took the money: the server must find the charge again by its idempotency key); any other
/// number that passes the Luhn check succeeds. Bank accounts (routing 110000000): 000123456789 succeeds, 000111111116
/// is declined (account closed), 000222222227 has insufficient funds. The outcome travels in
/// the token, so a method keeps behaving the same way.
public struct SandboxGateway: PaymentGateway {
    public let name = "sandbox"
    let log: any SandboxChargeLog
    let now: @Sendable () -> Date

    public init(log: any SandboxChargeLog, now: @escaping @Sendable () -> Date = { Date() }) {
        self.log = log
        self.now = now
    }

    /// What a Sandbox token promises.
    enum Outcome: String, CaseIterable {
        case succeeds = "ok"
        case declined
        case insufficientFunds = "nsf"
        case expired
        case answerLost = "lost"

        var error: PaymentError? {
            switch self {
            case .succeeds, .answerLost: nil
            case .declined: PaymentError(kind: .declined, code: "card_declined", message: "Your card was declined.")
            case .insufficientFunds:
                PaymentError(
                    kind: .insufficientFunds,
                    code: "insufficient_funds",
                    message: "Your card has insufficient funds."
                )
            case .expired: PaymentError(kind: .expired, code: "expired_card", message: "Your card has expired.")
            }
        }
    }

    public func register(_ input: PaymentMethodInput, for customer: PaymentCustomer) async throws(PaymentError)
        -> RegisteredPaymentMethod
    {
        let customerID = customer.id ?? "cus_sandbox_\(customer.organizationID)"
        let suffix = UUID().uuidString.prefix(8).lowercased()
        switch input {
        case .card(let number, let expMonth, let expYear):
            let digits = number.filter { $0 != " " && $0 != "-" }
            guard (12...19).contains(digits.count), digits.allSatisfy(\.isASCIIDigit), SandboxGateway.passesLuhn(digits)
            else {
                throw PaymentError(kind: .invalid, code: "invalid_number", message: "The card number is not valid.")
            }
            guard (1...12).contains(expMonth), (2000...2100).contains(expYear) else {
                throw PaymentError(
                    kind: .invalid,
                    code: "invalid_expiry",
                    message: "The card's expiry month or year is not valid."
                )
            }
            let today = Calendar(identifier: .gregorian).dateComponents(
                in: TimeZone(identifier: "UTC") ?? .current,
                from: now()
            )
            let outcome: Outcome
            switch digits {
            case "4000000000000002": outcome = .declined
            case "4000000000009995": outcome = .insufficientFunds
            case "4000000000000069": outcome = .expired
            case "4000000000000077": outcome = .answerLost
            default:
                let (year, month) = (today.year ?? 0, today.month ?? 0)
                guard expYear > year || (expYear == year && expMonth >= month) else {
                    throw PaymentError(kind: .expired, code: "expired_card", message: "Your card has expired.")
                }
                outcome = .succeeds
            }
            let method = PaymentMethodDetails(
                token: "pm_sandbox_\(outcome.rawValue)_\(suffix)",
                kind: .card,
                brand: SandboxGateway.brand(of: digits),
                last4: String(digits.suffix(4)),
                expMonth: expMonth,
                expYear: expYear
            )
            return RegisteredPaymentMethod(method: method, customerID: customerID)
        case .bankAccount(let routing, let account, let holder):
            guard routing.count == 9, routing.allSatisfy(\.isASCIIDigit), (4...17).contains(account.count),
                account.allSatisfy(\.isASCIIDigit)
            else {
                throw PaymentError(
                    kind: .invalid,
                    code: "invalid_bank_account",
                    message: "The routing or account number is not valid."
                )
            }
            guard !holder.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw PaymentError(
                    kind: .invalid,
                    code: "invalid_bank_account",
                    message: "The account holder's name is required."
                )
            }
            let outcome: Outcome =
                switch account {
                case "000111111116": .declined
                case "000222222227": .insufficientFunds
                default: .succeeds
                }
            let method = PaymentMethodDetails(
                token: "pm_sandbox_\(outcome.rawValue)_\(suffix)",
                kind: .bankAccount,
                brand: "STRIPE TEST BANK",
                last4: String(account.suffix(4))
            )
            return RegisteredPaymentMethod(method: method, customerID: customerID)
        case .token(let token):
            guard SandboxGateway.outcome(of: token) != nil else {
                throw PaymentError(
                    kind: .invalid,
                    code: "invalid_token",
                    message: "The Sandbox does not know this payment method token."
                )
            }
            return RegisteredPaymentMethod(
                method: PaymentMethodDetails(token: token, kind: .card, brand: "visa", last4: "4242"),
                customerID: customerID
            )
        }
    }

    public func charge(_ request: ChargeRequest) async throws(PaymentError) -> ChargeStatus {
        guard let outcome = SandboxGateway.outcome(of: request.paymentMethodToken) else {
            throw PaymentError(
                kind: .invalid,
                code: "invalid_token",
                message: "The Sandbox does not know this payment method token."
            )
        }
        let candidate = SandboxChargeOutcome(
            idempotencyKey: request.idempotencyKey,
            amountCents: request.amountCents,
            paymentMethodToken: request.paymentMethodToken,
            chargeID: outcome.error == nil
                ? "pi_sandbox_" + UUID().uuidString.filter(\.isHexDigit).prefix(16).lowercased() : nil,
            error: outcome.error
        )
        let recorded: SandboxChargeOutcome
        do { recorded = try await log.record(candidate) } catch {
            throw PaymentError(
                kind: .temporary,
                code: "sandbox_log",
                message: "The Sandbox could not record the charge."
            )
        }
        guard recorded.amountCents == request.amountCents, recorded.paymentMethodToken == request.paymentMethodToken
        else {
            throw PaymentError(
                kind: .invalid,
                code: "idempotency_error",
                message: "This idempotency key was already used for a different charge."
            )
        }
        if let error = recorded.error { throw error }
        if outcome == .answerLost, recorded.chargeID == candidate.chargeID {
            throw PaymentError(
                kind: .temporary,
                code: "network",
                message: "The Sandbox took the charge but its answer was lost (test card 4000 0000 0000 0077)."
            )
        }
        guard let id = recorded.chargeID else {
            throw PaymentError(kind: .temporary, code: "sandbox_log", message: "The Sandbox lost a charge.")
        }
        return .succeeded(Charge(id: id, amountCents: recorded.amountCents))
    }

    public func lookUp(idempotencyKey: String, chargeID: String?) async throws(PaymentError) -> ChargeStatus? {
        let recorded: SandboxChargeOutcome?
        do { recorded = try await log.find(idempotencyKey) } catch {
            throw PaymentError(
                kind: .temporary,
                code: "sandbox_log",
                message: "The Sandbox could not read its charges."
            )
        }
        guard let recorded else { return nil }
        if let error = recorded.error { throw error }
        guard let id = recorded.chargeID else { return nil }
        return .succeeded(Charge(id: id, amountCents: recorded.amountCents))
    }

    static func outcome(of token: String) -> Outcome? {
        let parts = token.split(separator: "_")
        guard parts.count == 4, parts[0] == "pm", parts[1] == "sandbox" else { return nil }
        return Outcome(rawValue: String(parts[2]))
    }

    /// The Luhn checksum every card number carries.
    static func passesLuhn(_ digits: String) -> Bool {
        var sum = 0
        for (index, character) in digits.reversed().enumerated() {
            guard var digit = character.wholeNumberValue else { return false }
            if index % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return sum % 10 == 0
    }

    static func brand(of digits: String) -> String {
        if digits.hasPrefix("4") { return "visa" }
        if let two = Int(digits.prefix(2)), (51...55).contains(two) { return "mastercard" }
        if let four = Int(digits.prefix(4)), (2221...2720).contains(four) { return "mastercard" }
        if digits.hasPrefix("34") || digits.hasPrefix("37") { return "amex" }
        if digits.hasPrefix("6011") || digits.hasPrefix("65") { return "discover" }
        return "card"
    }
}
