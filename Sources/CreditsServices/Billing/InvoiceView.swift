import CreditsCore
import CreditsStore
import Foundation

/// A tax invoice / receipt for a purchase, as JSON and as a printable page. Everything on it
/// comes from the purchase row, so it reads the same forever.
public struct InvoiceView: Encodable, Sendable {
    public struct Line: Encodable, Sendable {
        public var description: String
        public var quantity: Int64
        public var unitPrice: String
        public var amount: MoneyView
        enum CodingKeys: String, CodingKey {
            case description, quantity, amount
            case unitPrice = "unit_price"
        }
    }

    public var id: String
    public var number: String
    /// "Tax invoice" when tax was charged, otherwise "Receipt".
    public var title: String
    /// Always "paid": only a paid purchase has an invoice.
    public var status: String
    public var issuedAt: Date
    public var seller: InvoiceParties.Party
    public var buyer: InvoiceParties.Party
    public var organizationID: String
    public var lines: [Line]
    public var subtotal: MoneyView
    public var tax: QuoteView.TaxView?
    public var total: MoneyView
    public var currency: String
    public var paidWith: String
    public var chargeID: String
    public var creditsAddedTo: String

    enum CodingKeys: String, CodingKey {
        case id, number, title, status, seller, buyer, lines, subtotal, tax, total, currency
        case issuedAt = "issued_at"
        case organizationID = "organization_id"
        case paidWith = "paid_with"
        case chargeID = "charge_id"
        case creditsAddedTo = "credits_added_to"
    }

    init(_ purchase: Purchase, wallet: String) {
        precondition(purchase.status == .succeeded, "only a paid purchase has an invoice")
        let quote = QuoteView(purchase.quote)
        id = purchase.id
        number = purchase.invoiceLabel ?? ""
        title = purchase.quote.tax == nil ? "Receipt" : "Tax invoice"
        status = "paid"
        issuedAt = purchase.completedAt ?? purchase.createdAt
        seller = purchase.parties.seller
        buyer = purchase.parties.buyer
        organizationID = purchase.organizationID.rawValue
        switch purchase.kind {
        case .manual, .autoRenew:
            lines = [
                Line(
                    description: purchase.kind == .autoRenew ? "SMS credits (auto-renew)" : "SMS credits",
                    quantity: purchase.quote.credits,
                    unitPrice: quote.unitPrice,
                    amount: quote.subtotal
                )
            ]
        case .bucket, .plan, .rolloverProtection, .monthlyFee, .shortCode:
            // A fee is one line at its price; the credits it adds are named in the line.
            let credits =
                purchase.quote.credits > 0 && purchase.kind == .plan ? " — \(purchase.quote.credits) credits" : ""
            lines = [
                Line(
                    description: (purchase.description ?? purchase.subject) + credits,
                    quantity: 1,
                    unitPrice: quote.subtotal.text,
                    amount: quote.subtotal
                )
            ]
        }
        subtotal = quote.subtotal
        tax = quote.tax
        total = quote.total
        currency = purchase.quote.currency
        paidWith = purchase.methodDescription
        chargeID = purchase.chargeID ?? ""
        creditsAddedTo = wallet
    }
}
