/// The business that sells the credits, as invoices name it.
public struct Seller: Sendable, Equatable {
    public var name: String = "TextCredits"
    public var address: String?
    /// Its tax registration (ABN, GST or VAT number), printed when tax is charged.
    public var taxID: String?

    public init(name: String = "TextCredits", address: String? = nil, taxID: String? = nil) {
        self.name = name
        self.address = address
        self.taxID = taxID
    }
}
