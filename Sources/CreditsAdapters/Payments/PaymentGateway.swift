import CreditsCore

/// What a customer gives us to pay with. Card and bank numbers reach the gateway only: the
/// server keeps the gateway's token and the last four digits, never the number.
public enum PaymentMethodInput: Sendable, Equatable {
    /// A card typed into our form (the Sandbox tokenises it; Stripe wants its own form's token).
    case card(number: String, expMonth: Int, expYear: Int)
    /// A US bank account for ACH debits.
    case bankAccount(routingNumber: String, accountNumber: String, holderName: String)
    /// A token the gateway's own form created (Stripe's `pm_…`).
    case token(String)
}

/// The payer as the gateway knows them.
public struct PaymentCustomer: Sendable, Equatable {
    /// The gateway's customer id once created (Stripe's `cus_…`).
    public var id: String?
    public var name: String
    public var email: String
    public var organizationID: String

    public init(id: String?, name: String, email: String, organizationID: String) {
        self.id = id
        self.name = name
        self.email = email
        self.organizationID = organizationID
    }
}

/// A stored method together with the customer it now belongs to.
public struct RegisteredPaymentMethod: Sendable, Equatable {
    public var method: PaymentMethodDetails
    public var customerID: String?

    public init(method: PaymentMethodDetails, customerID: String?) {
        self.method = method
        self.customerID = customerID
    }
}

/// One off-session charge. The idempotency key makes a repeated request (after a crash, or a
/// retry) return the first charge instead of charging again.
public struct ChargeRequest: Sendable, Equatable {
    public var amountCents: Int64
    public var currency: String
    public var customerID: String?
    public var paymentMethodToken: String
    public var idempotencyKey: String
    public var description: String

    public init(
        amountCents: Int64,
        currency: String,
        customerID: String?,
        paymentMethodToken: String,
        idempotencyKey: String,
        description: String
    ) {
        precondition(amountCents > 0, "a charge is for a positive amount")
        self.amountCents = amountCents
        self.currency = currency
        self.customerID = customerID
        self.paymentMethodToken = paymentMethodToken
        self.idempotencyKey = idempotencyKey
        self.description = description
    }
}

/// A charge the gateway accepted.
public struct Charge: Sendable, Equatable {
    /// The gateway's id (Stripe's PaymentIntent `pi_…`).
    public var id: String
    public var amountCents: Int64

    public init(id: String, amountCents: Int64) {
        self.id = id
        self.amountCents = amountCents
    }
}

/// Where a charge stands at the gateway.
public enum ChargeStatus: Sendable, Equatable {
    /// The money is taken.
    case succeeded(Charge)
    /// Accepted but not settled yet (a bank debit takes days): ask again later by its id.
    case processing(chargeID: String)
}

/// Why a payment method or charge was refused.
public struct PaymentError: Error, Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// The bank declined (Stripe `card_declined`).
        case declined
        /// Declined for insufficient funds.
        case insufficientFunds = "insufficient_funds"
        /// The card has expired.
        case expired
        /// The bank wants the customer present (3-D Secure), which an off-session charge cannot do.
        case authenticationRequired = "authentication_required"
        /// The number, date or token is not valid.
        case invalid
        /// No answer, a server error, or the same charge still in flight: the outcome is unknown;
        /// look the charge up (or retry with the same idempotency key) later.
        case temporary
        /// Our gateway credentials were refused.
        case configuration
    }

    public var kind: Kind
    /// The gateway's own code ("card_declined", "insufficient_funds").
    public var code: String
    public var message: String

    public init(kind: Kind, code: String, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// True when the charge certainly did not happen (as opposed to an unknown outcome).
    public var isFinal: Bool { kind != .temporary && kind != .configuration }
}

/// A payment gateway: the Sandbox by default, Stripe in production.
public protocol PaymentGateway: Sendable {
    /// "sandbox" or "stripe".
    var name: String { get }
    /// Turns what the customer gave into a method on file, creating the customer if needed.
    func register(_ input: PaymentMethodInput, for customer: PaymentCustomer) async throws(PaymentError)
        -> RegisteredPaymentMethod
    /// Charges a method on file off-session; the same idempotency key returns the same charge.
    /// A final refusal is thrown with `isFinal`; anything unknown is thrown as `.temporary`.
    func charge(_ request: ChargeRequest) async throws(PaymentError) -> ChargeStatus
    /// Finds what became of the charge made (or perhaps made) under `idempotencyKey`, by its id
    /// when it is known; nil when the gateway has no such charge (it never arrived, so charging
    /// again under the same key is safe). A charge that ended refused is thrown as a final error.
    func lookUp(idempotencyKey: String, chargeID: String?) async throws(PaymentError) -> ChargeStatus?
}
