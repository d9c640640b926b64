/// A payment method as kept on file: the gateway's token and what identifies it to people
/// (never the card or account number).
public struct PaymentMethodDetails: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case card
        case bankAccount = "bank_account"
    }

    /// The gateway's token for the method.
    public var token: String
    public var kind: Kind
    /// "visa", "mastercard", … or the bank's name.
    public var brand: String
    public var last4: String
    public var expMonth: Int?
    public var expYear: Int?

    public init(token: String, kind: Kind, brand: String, last4: String, expMonth: Int? = nil, expYear: Int? = nil) {
        self.token = token
        self.kind = kind
        self.brand = brand
        self.last4 = last4
        self.expMonth = expMonth
        self.expYear = expYear
    }

    /// "visa ending 4242", as people see it on screens and invoices.
    public var description: String { "\(brand) ending \(last4)" }
}
