import CreditsCore
import Foundation

/// A purchase of credits: priced, then charged, then credited — in that order, each step durable.
public struct Purchase: Sendable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Recorded; the charge has not been confirmed (a crash here is reconciled by key).
        case pending
        /// Charged and credited, with an invoice number.
        case succeeded
        /// Refused by the gateway; nothing was added.
        case failed
    }

    public enum Kind: String, Sendable, Codable {
        case manual
        case autoRenew = "auto_renew"
        /// A credit bucket: a plan's monthly credits at its monthly price (never expiring).
        case bucket
        /// A subscription's cycle: its fee, and its plan credits expiring at the cycle end.
        case plan
        /// The rollover-protection add-on for one cycle (adds no credits).
        case rolloverProtection = "rollover_protection"
        /// The country's monthly platform fee (AU; adds no credits).
        case monthlyFee = "monthly_fee"
        /// A month of a keyword on the shared short code (adds no credits).
        case shortCode = "short_code"

        /// Whether it adds purchased credits that never expire.
        public var addsPurchasedCredits: Bool { self == .manual || self == .autoRenew || self == .bucket }
    }

    public var id: String
    public var organizationID: OrganizationID
    public var idempotencyKey: String
    /// Equal for requests that ask for the same thing (a reused key with another body is refused).
    public var fingerprint: String
    /// The pool or wallet credited.
    public var accountID: AccountID
    public var kind: Kind
    public var actor: Actor
    public var quote: Quote
    public var methodToken: String
    /// "visa ending 4242", shown on the invoice.
    public var methodDescription: String
    public var customerID: String?
    /// Seller and buyer as they stood when the purchase was made (the invoice never changes).
    public var parties: InvoiceParties
    public var status: Status
    public var chargeID: String?
    public var failureCode: String?
    public var failureMessage: String?
    public var transferID: TransferID?
    public var invoiceNumber: Int64?
    public var createdAt: Date
    public var completedAt: Date?
    /// While pending: when the gateway is next asked what became of the charge.
    public var nextCheckAt: Date?
    /// The invoice line for a fee ("Growth plan, monthly: 1 Dec 2026 – 1 Jan 2027").
    public var description: String?
    /// The cycle a fee pays for.
    public var period: DateInterval?
    /// When the plan credits it adds expire (nil: never).
    public var lotExpiresAt: Date?
    /// The id of the HTTP request that made it (nil when a background job did), for the
    /// reconciliation's log lines.
    public var requestID: String?

    public init(
        id: String,
        organizationID: OrganizationID,
        idempotencyKey: String,
        fingerprint: String,
        accountID: AccountID,
        kind: Kind,
        actor: Actor,
        quote: Quote,
        methodToken: String,
        methodDescription: String,
        customerID: String?,
        parties: InvoiceParties,
        createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.idempotencyKey = idempotencyKey
        self.fingerprint = fingerprint
        self.accountID = accountID
        self.kind = kind
        self.actor = actor
        self.quote = quote
        self.methodToken = methodToken
        self.methodDescription = methodDescription
        self.customerID = customerID
        self.parties = parties
        self.status = .pending
        self.createdAt = createdAt
    }

    /// What was bought, in a sentence: "500 SMS credits", or a fee's description.
    public var subject: String {
        if kind == .bucket, let description { return description }
        if kind.addsPurchasedCredits { return "\(quote.credits) SMS credits" }
        return description ?? kind.rawValue
    }

    /// The invoice number as printed ("TC-000042").
    public var invoiceLabel: String? {
        invoiceNumber.map { number in
            let digits = String(number)
            return "TC-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        }
    }
}

/// An organisation's billing details and the payment method on file.
public struct BillingProfile: Sendable, Equatable {
    public var organizationID: OrganizationID
    public var gateway: String
    public var customerID: String?
    public var legalName: String?
    public var taxID: String?
    public var address: String?
    public var billingEmail: String?
    public var method: PaymentMethodDetails?
    public var updatedAt: Date

    public init(
        organizationID: OrganizationID,
        gateway: String,
        customerID: String? = nil,
        legalName: String? = nil,
        taxID: String? = nil,
        address: String? = nil,
        billingEmail: String? = nil,
        method: PaymentMethodDetails? = nil,
        updatedAt: Date
    ) {
        self.organizationID = organizationID
        self.gateway = gateway
        self.customerID = customerID
        self.legalName = legalName
        self.taxID = taxID
        self.address = address
        self.billingEmail = billingEmail
        self.method = method
        self.updatedAt = updatedAt
    }
}

/// Who sells and who buys, as an invoice prints them.
public struct InvoiceParties: Sendable, Equatable, Codable {
    public struct Party: Sendable, Equatable, Codable {
        public var name: String
        public var address: String?
        public var taxID: String?
        public var email: String?

        enum CodingKeys: String, CodingKey {
            case name, address, email
            case taxID = "tax_id"
        }

        public init(name: String, address: String? = nil, taxID: String? = nil, email: String? = nil) {
            self.name = name
            self.address = address
            self.taxID = taxID
            self.email = email
        }
    }

    public var seller: Party
    public var buyer: Party

    public init(seller: Party, buyer: Party) {
        self.seller = seller
        self.buyer = buyer
    }
}
