import Foundation

/// What one credit costs and what tax applies, by the organisation's country (DESIGN §4).
/// (`PriceList` is the other price table: what each message costs in credits.)
///
/// Prices are kept in hundredths of a cent per credit so a configured price such as $0.025
/// stays exact; every amount a customer sees is whole cents (`Quote`).
public struct CreditPrices: Sendable, Equatable {
    /// One country's terms.
    public struct Terms: Sendable, Equatable {
        /// Price of one credit in hundredths of a cent (300 = $0.03).
        public var unitPriceHundredthsOfCent: Int64
        /// A monthly platform fee in cents, charged with the plan (AU), shown with the prices.
        public var monthlyFeeCents: Int64
        /// The tax collected on purchases, if any.
        public var tax: Tax?

        public init(unitPriceHundredthsOfCent: Int64, monthlyFeeCents: Int64 = 0, tax: Tax? = nil) {
            precondition(unitPriceHundredthsOfCent > 0 && monthlyFeeCents >= 0, "prices are positive")
            self.unitPriceHundredthsOfCent = unitPriceHundredthsOfCent
            self.monthlyFeeCents = monthlyFeeCents
            self.tax = tax
        }
    }

    /// A sales tax: its name on the invoice and its rate in basis points (1000 = 10%).
    public struct Tax: Sendable, Equatable, Codable {
        public var name: String
        public var rateBasisPoints: Int64

        public init(name: String, rateBasisPoints: Int64) {
            precondition(rateBasisPoints >= 0 && rateBasisPoints <= 10_000, "a tax rate is 0–100%")
            self.name = name
            self.rateBasisPoints = rateBasisPoints
        }
    }

    /// Prices are in one currency for every country (DESIGN §4: USD).
    public var currency: String
    /// The smallest purchase in credits.
    public var purchaseMinimum: Int64
    /// The largest single purchase in credits (a typo guard: 10 million credits).
    public var purchaseMaximum: Int64
    /// Terms by country; a country missing here is not self-serve.
    public var terms: [Country: Terms]

    public init(currency: String, purchaseMinimum: Int64, purchaseMaximum: Int64, terms: [Country: Terms]) {
        self.currency = currency
        self.purchaseMinimum = purchaseMinimum
        self.purchaseMaximum = purchaseMaximum
        self.terms = terms
    }

    /// The defaults of DESIGN §4: US/CA $0.03, AU $0.08 plus a monthly fee with 10% GST, NZ
    /// $0.12 with 15% GST, GB $0.06 with 20% VAT; minimum purchase 100 credits.
    public static let standard = CreditPrices(
        currency: "USD",
        purchaseMinimum: 100,
        purchaseMaximum: 10_000_000,
        terms: [
            .us: Terms(unitPriceHundredthsOfCent: 300),
            .ca: Terms(unitPriceHundredthsOfCent: 300),
            .au: Terms(
                unitPriceHundredthsOfCent: 800,
                monthlyFeeCents: 1_000,
                tax: Tax(name: "GST", rateBasisPoints: 1_000)
            ),
            .nz: Terms(unitPriceHundredthsOfCent: 1_200, tax: Tax(name: "GST", rateBasisPoints: 1_500)),
            .gb: Terms(unitPriceHundredthsOfCent: 600, tax: Tax(name: "VAT", rateBasisPoints: 2_000)),
        ]
    )

    /// Prices a purchase of `credits` for an organisation in `country`.
    ///
    /// Rounding (documented in the README): the subtotal is credits × unit price, rounded half
    /// up to a cent; the tax is the subtotal × rate, rounded half up to a cent; the total is
    /// their sum. So the invoice lines always add up exactly.
    public func quote(credits: Int64, country: Country) throws(BillingError) -> Quote {
        guard let terms = terms[country] else { throw .notSelfServe(country) }
        guard credits >= purchaseMinimum else { throw .belowMinimum(credits: credits, minimum: purchaseMinimum) }
        guard credits <= purchaseMaximum else { throw .aboveMaximum(credits: credits, maximum: purchaseMaximum) }
        let subtotal = CreditPrices.divideRoundingHalfUp(credits * terms.unitPriceHundredthsOfCent, by: 100)
        let tax = terms.tax.map { CreditPrices.divideRoundingHalfUp(subtotal * $0.rateBasisPoints, by: 10_000) } ?? 0
        let quote = Quote(
            credits: credits,
            country: country,
            currency: currency,
            unitPriceHundredthsOfCent: terms.unitPriceHundredthsOfCent,
            subtotalCents: subtotal,
            tax: terms.tax,
            taxCents: tax,
            totalCents: subtotal + tax
        )
        assert(quote.totalCents == quote.subtotalCents + quote.taxCents && quote.totalCents > 0, "a quote adds up")
        return quote
    }

    /// `value / divisor` for non-negative values, halves rounded up.
    static func divideRoundingHalfUp(_ value: Int64, by divisor: Int64) -> Int64 {
        precondition(value >= 0 && divisor > 0, "rounding non-negative amounts")
        return (value + divisor / 2) / divisor
    }
}

/// The price of one purchase, as the invoice shows it.
public struct Quote: Sendable, Equatable, Codable {
    public var credits: Int64
    public var country: Country
    public var currency: String
    public var unitPriceHundredthsOfCent: Int64
    public var subtotalCents: Int64
    public var tax: CreditPrices.Tax?
    public var taxCents: Int64
    public var totalCents: Int64

    public init(
        credits: Int64,
        country: Country,
        currency: String,
        unitPriceHundredthsOfCent: Int64,
        subtotalCents: Int64,
        tax: CreditPrices.Tax?,
        taxCents: Int64,
        totalCents: Int64
    ) {
        self.credits = credits
        self.country = country
        self.currency = currency
        self.unitPriceHundredthsOfCent = unitPriceHundredthsOfCent
        self.subtotalCents = subtotalCents
        self.tax = tax
        self.taxCents = taxCents
        self.totalCents = totalCents
    }
}

/// Why a purchase cannot be priced or charged.
public enum BillingError: Error, Equatable, Sendable {
    case notSelfServe(Country)
    case belowMinimum(credits: Int64, minimum: Int64)
    case aboveMaximum(credits: Int64, maximum: Int64)

    /// A stable code for clients.
    public var code: String {
        switch self {
        case .notSelfServe: "country_not_self_serve"
        case .belowMinimum: "purchase_below_minimum"
        case .aboveMaximum: "purchase_above_maximum"
        }
    }

    /// A sentence for people.
    public var message: String {
        switch self {
        case .notSelfServe(let country):
            "Credits for organisations in \(country.name) are not sold self-serve; contact support."
        case .belowMinimum(let credits, let minimum):
            "The minimum purchase is \(minimum) credits; \(credits) were requested."
        case .aboveMaximum(let credits, let maximum):
            "A single purchase is at most \(maximum) credits; \(credits) were requested."
        }
    }
}

/// Formats whole cents as money for people ("$1,234.56"; every price is in dollars).
public enum Money {
    /// "US=49.00" → (US, 4900): a price per country as operators write it (more than 0, at most
    /// $1,000,000, rounded to the cent); nil when it does not read so.
    public static func countryPrice(_ item: String) -> (Country, Int64)? {
        let parts = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let country = Country(rawValue: parts[0].uppercased()),
            let dollars = Decimal(string: parts[1], locale: Locale(identifier: "en_US_POSIX")), dollars > 0,
            dollars <= 1_000_000
        else { return nil }
        var cents = dollars * 100
        var rounded = Decimal()
        NSDecimalRound(&rounded, &cents, 0, .plain)
        return (country, NSDecimalNumber(decimal: rounded).int64Value)
    }

    public static func format(cents: Int64, currency: String = "USD") -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        var dollars = String(magnitude / 100)
        var grouped = ""
        while dollars.count > 3 {
            grouped = "," + dollars.suffix(3) + grouped
            dollars.removeLast(3)
        }
        let fraction = magnitude % 100
        return "\(sign)$\(dollars)\(grouped).\(fraction < 10 ? "0" : "")\(fraction)"
            + (currency == "USD" ? "" : " \(currency)")
    }

    /// A price per credit in hundredths of a cent as dollars, without trailing zeros past the cents ("$0.03", "$0.025").
    public static func format(hundredthsOfCent: Int64) -> String {
        let cents = format(cents: hundredthsOfCent / 100)
        let rest = hundredthsOfCent % 100
        guard rest != 0 else { return cents }
        var digits = rest < 10 ? "0\(rest)" : "\(rest)"
        while digits.hasSuffix("0") { digits.removeLast() }
        return cents + digits
    }
}
