import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// `POST /v1/credits/purchases`.
public struct PurchaseInput: APIInput, Sendable {
    /// Whole credits, at least the minimum purchase (or a `bucket` instead).
    public var credits: Int64?
    /// A credit bucket: a catalogue plan's id, bought as its monthly credits at its monthly price.
    public var bucket: String?
    /// "pool" (default) or a staff member's id, whose wallet receives them (individual mode).
    public var wallet: String?
    /// Who the invoice is made out to, when not the organisation's billing details.
    public var billingDetails: BuyerInput?

    public struct BuyerInput: Decodable, Sendable {
        public var name: String?
        public var email: String?
        public var address: String?
        public var taxID: String?

        enum CodingKeys: String, CodingKey {
            case name, email, address
            case taxID = "tax_id"
        }

        public init(name: String?, email: String?, address: String?, taxID: String?) {
            self.name = name
            self.email = email
            self.address = address
            self.taxID = taxID
        }
    }

    enum CodingKeys: String, CodingKey {
        case credits, bucket, wallet
        case billingDetails = "billing_details"
    }

    public static let fields = JSONFields([
        "credits": nil, "bucket": nil, "wallet": nil,
        "billing_details": JSONFields(["name", "email", "address", "tax_id"]),
    ])

    public init(credits: Int64?, bucket: String? = nil, wallet: String? = nil, billingDetails: BuyerInput? = nil) {
        self.credits = credits
        self.bucket = bucket
        self.wallet = wallet
        self.billingDetails = billingDetails
    }
}

/// `PUT /v1/billing/payment-method`: exactly one of card, bank account or gateway token.
public struct PaymentMethodInputJSON: APIInput, Sendable {
    public struct Card: Decodable, Sendable {
        public var number: String
        public var expMonth: Int
        public var expYear: Int
        enum CodingKeys: String, CodingKey {
            case number
            case expMonth = "exp_month"
            case expYear = "exp_year"
        }
    }

    public struct BankAccount: Decodable, Sendable {
        public var routingNumber: String
        public var accountNumber: String
        public var holderName: String
        enum CodingKeys: String, CodingKey {
            case routingNumber = "routing_number"
            case accountNumber = "account_number"
            case holderName = "holder_name"
        }
    }

    public var card: Card?
    public var bankAccount: BankAccount?
    public var token: String?

    enum CodingKeys: String, CodingKey {
        case card, token
        case bankAccount = "bank_account"
    }

    public static let fields = JSONFields([
        "card": JSONFields(["number", "exp_month", "exp_year"]),
        "bank_account": JSONFields(["routing_number", "account_number", "holder_name"]),
        "token": nil,
    ])

    /// The one method given, or a 422 naming what is wrong.
    func method() throws -> PaymentMethodInput {
        switch (card, bankAccount, token) {
        case (let card?, nil, nil): return .card(number: card.number, expMonth: card.expMonth, expYear: card.expYear)
        case (nil, let bank?, nil):
            return .bankAccount(
                routingNumber: bank.routingNumber,
                accountNumber: bank.accountNumber,
                holderName: bank.holderName
            )
        case (nil, nil, let token?): return .token(token)
        default: throw PurchaseError.paymentMethodAmbiguous
        }
    }
}

/// `PATCH /v1/billing/details`: what the tax invoice shows for the organisation.
public struct BillingDetailsInput: APIInput, Sendable {
    public var legalName: String?
    public var taxID: String?
    public var address: String?
    public var email: String?

    enum CodingKeys: String, CodingKey {
        case address, email
        case legalName = "legal_name"
        case taxID = "tax_id"
    }

    public static let fields = JSONFields(["legal_name", "tax_id", "address", "email"])
}

/// Money as both integer cents and the text people read.
public struct MoneyView: Encodable, Sendable, Equatable {
    public var cents: Int64
    public var text: String

    init(_ cents: Int64, currency: String) {
        self.cents = cents
        self.text = Money.format(cents: cents, currency: currency)
    }
}

/// A price for a purchase, before or on an invoice.
public struct QuoteView: Encodable, Sendable {
    public var credits: Int64
    public var country: String
    public var currency: String
    public var unitPrice: String
    public var subtotal: MoneyView
    public var tax: TaxView?
    public var total: MoneyView

    public struct TaxView: Encodable, Sendable {
        public var name: String
        public var rate: String
        public var amount: MoneyView
    }

    enum CodingKeys: String, CodingKey {
        case credits, country, currency, subtotal, tax, total
        case unitPrice = "unit_price"
    }

    init(_ quote: Quote) {
        credits = quote.credits
        country = quote.country.rawValue
        currency = quote.currency
        unitPrice = Money.format(hundredthsOfCent: quote.unitPriceHundredthsOfCent)
        subtotal = MoneyView(quote.subtotalCents, currency: quote.currency)
        tax = quote.tax.map {
            TaxView(
                name: $0.name,
                rate: QuoteView.percent($0.rateBasisPoints),
                amount: MoneyView(quote.taxCents, currency: quote.currency)
            )
        }
        total = MoneyView(quote.totalCents, currency: quote.currency)
    }

    /// 1000 basis points as "10%", 1250 as "12.5%".
    static func percent(_ basisPoints: Int64) -> String {
        let whole = basisPoints / 100
        var fraction = String(basisPoints % 100)
        if fraction.count == 1 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)%" : "\(whole).\(fraction)%"
    }
}

/// `GET /v1/billing`: the payment method on file, the invoice details and the prices that apply.
public struct BillingView: Encodable, Sendable {
    public struct MethodView: Encodable, Sendable {
        public var kind: PaymentMethodDetails.Kind
        public var brand: String
        public var last4: String
        public var expMonth: Int?
        public var expYear: Int?
        public var description: String
        enum CodingKeys: String, CodingKey {
            case kind, brand, last4, description
            case expMonth = "exp_month"
            case expYear = "exp_year"
        }
    }

    public struct PricesView: Encodable, Sendable {
        public var country: String
        public var currency: String
        public var unitPrice: String
        public var monthlyFee: MoneyView?
        public var tax: String?
        public var purchaseMinimum: Int64
        enum CodingKeys: String, CodingKey {
            case country, currency, tax
            case unitPrice = "unit_price"
            case monthlyFee = "monthly_fee"
            case purchaseMinimum = "purchase_minimum"
        }
    }

    public var gateway: String
    public var paymentMethod: MethodView?
    public var legalName: String?
    public var taxID: String?
    public var address: String?
    public var email: String?
    public var prices: PricesView?

    enum CodingKeys: String, CodingKey {
        case gateway, address, email, prices
        case paymentMethod = "payment_method"
        case legalName = "legal_name"
        case taxID = "tax_id"
    }
}

/// A purchase as the API shows it.
public struct PurchaseView: Encodable, Sendable {
    public var id: String
    public var status: Purchase.Status
    public var kind: Purchase.Kind
    /// What was bought: "500 SMS credits", or a fee's line ("Growth plan, monthly: …").
    public var description: String
    public var credits: Int64
    public var wallet: String
    public var price: QuoteView
    public var paymentMethod: String
    public var invoice: String?
    public var invoiceNumber: String?
    public var failure: FailureView?
    public var createdBy: String
    public var createdAt: Date
    public var completedAt: Date?
    public var replayed: Bool

    public struct FailureView: Encodable, Sendable {
        public var code: String
        public var message: String
    }

    enum CodingKeys: String, CodingKey {
        case id, status, kind, description, credits, wallet, price, invoice, failure, replayed
        case paymentMethod = "payment_method"
        case invoiceNumber = "invoice_number"
        case createdBy = "created_by"
        case createdAt = "created_at"
        case completedAt = "completed_at"
    }

    init(_ purchase: Purchase, wallet: String, replayed: Bool = false) {
        id = purchase.id
        status = purchase.status
        kind = purchase.kind
        description = purchase.subject
        credits = purchase.quote.credits
        self.wallet = wallet
        price = QuoteView(purchase.quote)
        paymentMethod = purchase.methodDescription
        invoice = purchase.status == .succeeded ? "/v1/invoices/\(purchase.id)" : nil
        invoiceNumber = purchase.invoiceLabel
        failure = purchase.failureCode.map { FailureView(code: $0, message: purchase.failureMessage ?? "") }
        createdBy = purchase.actor.name
        createdAt = purchase.createdAt
        completedAt = purchase.completedAt
        self.replayed = replayed
    }
}
