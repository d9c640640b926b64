import CreditsCore
import Testing

@Suite struct CreditPricesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let country: Country
        let credits: Int64
        let subtotal: Int64
        let tax: String?
        let taxCents: Int64
        let total: Int64
        var testDescription: String { "\(credits) credits in \(country.rawValue)" }
    }

    static let cases: [Case] = [
        Case(country: .us, credits: 100, subtotal: 300, tax: nil, taxCents: 0, total: 300),
        Case(country: .ca, credits: 1000, subtotal: 3000, tax: nil, taxCents: 0, total: 3000),
        Case(country: .au, credits: 100, subtotal: 800, tax: "GST", taxCents: 80, total: 880),
        Case(country: .au, credits: 2500, subtotal: 20_000, tax: "GST", taxCents: 2000, total: 22_000),
        Case(country: .nz, credits: 100, subtotal: 1200, tax: "GST", taxCents: 180, total: 1380),
        // 101 × $0.12 = $12.12; GST 15% = $1.818, rounded half up to $1.82.
        Case(country: .nz, credits: 101, subtotal: 1212, tax: "GST", taxCents: 182, total: 1394),
        Case(country: .gb, credits: 150, subtotal: 900, tax: "VAT", taxCents: 180, total: 1080),
        // 117 × $0.06 = $7.02; VAT 20% = $1.404, rounded to $1.40.
        Case(country: .gb, credits: 117, subtotal: 702, tax: "VAT", taxCents: 140, total: 842),
    ]

    @Test(arguments: cases)
    func pricesAndTaxFollowTheCountry(_ expected: Case) throws {
        let quote = try CreditPrices.standard.quote(credits: expected.credits, country: expected.country)
        #expect(quote.subtotalCents == expected.subtotal)
        #expect(quote.tax?.name == expected.tax)
        #expect(quote.taxCents == expected.taxCents)
        #expect(quote.totalCents == expected.total)
        #expect(quote.currency == "USD")
    }

    @Test func aSubCentPriceRoundsTheSubtotalHalfUp() throws {
        let prices = CreditPrices(
            currency: "USD",
            purchaseMinimum: 1,
            purchaseMaximum: 1000,
            terms: [.us: .init(unitPriceHundredthsOfCent: 250)]
        )
        // 101 × $0.025 = $2.525 → $2.53; 100 × $0.025 = $2.50 exactly.
        #expect(try prices.quote(credits: 101, country: .us).totalCents == 253)
        #expect(try prices.quote(credits: 100, country: .us).totalCents == 250)
    }

    @Test func purchasesBelowTheMinimumOrAboveTheMaximumAreRefused() {
        #expect(throws: BillingError.belowMinimum(credits: 99, minimum: 100)) {
            try CreditPrices.standard.quote(credits: 99, country: .us)
        }
        #expect(throws: BillingError.belowMinimum(credits: 0, minimum: 100)) {
            try CreditPrices.standard.quote(credits: 0, country: .us)
        }
        #expect(throws: BillingError.aboveMaximum(credits: 10_000_001, maximum: 10_000_000)) {
            try CreditPrices.standard.quote(credits: 10_000_001, country: .us)
        }
        let usOnly = CreditPrices(
            currency: "USD",
            purchaseMinimum: 100,
            purchaseMaximum: 1000,
            terms: [.us: .init(unitPriceHundredthsOfCent: 300)]
        )
        #expect(throws: BillingError.notSelfServe(.gb)) { try usOnly.quote(credits: 100, country: .gb) }
    }

    @Test func moneyIsWrittenForPeople() {
        #expect(Money.format(cents: 880) == "$8.80")
        #expect(Money.format(cents: 5) == "$0.05")
        #expect(Money.format(cents: 123_456_789) == "$1,234,567.89")
        #expect(Money.format(cents: -250) == "-$2.50")
        #expect(Money.format(hundredthsOfCent: 300) == "$0.03")
        #expect(Money.format(hundredthsOfCent: 250) == "$0.025")
        #expect(Money.format(hundredthsOfCent: 1205) == "$0.1205")
    }
}
