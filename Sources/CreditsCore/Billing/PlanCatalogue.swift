import Foundation

/// How often a subscription renews (and its plan credits expire).
public enum BillingCycle: String, Sendable, Codable, CaseIterable {
    case monthly
    case yearly

    /// Months one cycle lasts.
    public var months: Int64 { self == .monthly ? 1 : 12 }
    /// "month" or "year".
    public var noun: String { self == .monthly ? "month" : "year" }
}

/// One country's prices of a catalogue plan, in whole cents before tax. A cycle without a price
/// is not offered in that country.
public struct PlanPrices: Sendable, Equatable, Codable {
    public var monthlyCents: Int64?
    public var yearlyCents: Int64?
    /// The rollover-protection add-on, per month (a yearly cycle pays twelve months).
    public var rolloverProtectionMonthlyCents: Int64?

    public init(monthlyCents: Int64?, yearlyCents: Int64?, rolloverProtectionMonthlyCents: Int64?) {
        self.monthlyCents = monthlyCents
        self.yearlyCents = yearlyCents
        self.rolloverProtectionMonthlyCents = rolloverProtectionMonthlyCents
    }

    public func cents(for cycle: BillingCycle) -> Int64? { cycle == .monthly ? monthlyCents : yearlyCents }

    /// The add-on's price for one cycle.
    public func rolloverProtectionCents(for cycle: BillingCycle) -> Int64? {
        rolloverProtectionMonthlyCents.map { $0 * cycle.months }
    }

    enum CodingKeys: String, CodingKey {
        case monthlyCents = "monthly_cents"
        case yearlyCents = "yearly_cents"
        case rolloverProtectionMonthlyCents = "rollover_protection_monthly_cents"
    }
}

/// A plan of the operator's catalogue: non-rollover (NRO) credits each month, prices by country
/// for a monthly and/or a yearly cycle, and whether rollover protection comes with it.
///
/// A yearly cycle grants twelve months' credits at its start, all expiring at the year's end
/// (the PastorsLine page: "Unused yearly NRO credits will expire yearly").
public struct CataloguePlan: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var creditsPerMonth: Int64
    public var includesRolloverProtection: Bool
    public var prices: [Country: PlanPrices]
    /// Order on the plans page (cheapest first is the habit).
    public var position: Int
    /// A retired plan is not offered; subscribers keep it until they change.
    public var active: Bool

    public init(
        id: String,
        name: String,
        creditsPerMonth: Int64,
        includesRolloverProtection: Bool,
        prices: [Country: PlanPrices],
        position: Int = 0,
        active: Bool = true
    ) {
        self.id = id
        self.name = name
        self.creditsPerMonth = creditsPerMonth
        self.includesRolloverProtection = includesRolloverProtection
        self.prices = prices
        self.position = position
        self.active = active
    }

    /// Plan credits granted at the start of a cycle.
    public func credits(for cycle: BillingCycle) -> Int64 { creditsPerMonth * cycle.months }

    /// The price of one cycle in a country, before tax (nil when not offered there).
    public func cents(for cycle: BillingCycle, in country: Country) -> Int64? { prices[country]?.cents(for: cycle) }

    /// A month's worth of the price, to compare plans of different cycles (upgrade or downgrade).
    public func monthlyEquivalentCents(for cycle: BillingCycle, in country: Country) -> Int64? {
        cents(for: cycle, in: country).map { $0 / cycle.months }
    }

    /// The rules a catalogue entry keeps: an id of lower-case letters, digits and dashes, a
    /// name, positive credits and at least one positive price.
    public static func check(
        id: String,
        name: String,
        creditsPerMonth: Int64,
        prices: [Country: PlanPrices]
    ) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        if id.isEmpty || id.count > 40 || !id.allSatisfy(allowed.contains) {
            return "A plan id is 1–40 lower-case letters, digits or dashes."
        }
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 100 {
            return "A plan name is 1–100 characters."
        }
        if creditsPerMonth <= 0 || creditsPerMonth > 10_000_000 {
            return "A plan gives 1–10,000,000 credits a month."
        }
        let amounts = prices.values.flatMap {
            [$0.monthlyCents, $0.yearlyCents, $0.rolloverProtectionMonthlyCents].compactMap { $0 }
        }
        if amounts.contains(where: { $0 <= 0 || $0 > 100_000_000 }) {
            return "Every price is between 1 cent and $1,000,000."
        }
        if !prices.values.contains(where: { $0.monthlyCents != nil || $0.yearlyCents != nil }) {
            return "A plan has a monthly or a yearly price in at least one country."
        }
        return nil
    }
}

/// What an upgrade charges: the new cycle's full price less the unused share of what was paid
/// for the cycle being left, in proportion to the time left of it (whole cents, rounded down so
/// the customer is never charged a fraction more). The credits of the cycle left expire at the
/// upgrade, since the unused time is given back as money; with rollover protection they stay.
public enum Proration {
    public static func unusedCents(paidCents: Int64, period: DateInterval, at instant: Date) -> Int64 {
        // In whole milliseconds and cents: no floating point touches money. A cycle is at most a
        // year (3.2e10 ms), so cents × ms stays far inside Int64 for any price the catalogue takes.
        guard paidCents > 0, instant < period.end else { return 0 }
        func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        let total = milliseconds(period.end) - milliseconds(period.start)
        guard total > 0 else { return 0 }
        let left = min(total, max(0, milliseconds(period.end) - milliseconds(instant)))
        return paidCents * left / total
    }
}

extension CreditPrices {
    /// Prices a fee (a plan's cycle, an add-on, a bucket, the monthly platform fee) of
    /// `cents` before tax for an organisation in `country`, with the country's tax. `credits`
    /// is what the fee adds (zero for a fee that adds none); the unit price is the fee itself.
    public func feeQuote(cents: Int64, credits: Int64, country: Country) throws(BillingError) -> Quote {
        guard let terms = terms[country] else { throw .notSelfServe(country) }
        let subtotal = max(1, cents)
        let tax = terms.tax.map { CreditPrices.divideRoundingHalfUp(subtotal * $0.rateBasisPoints, by: 10_000) } ?? 0
        return Quote(
            credits: credits,
            country: country,
            currency: currency,
            unitPriceHundredthsOfCent: subtotal * 100,
            subtotalCents: subtotal,
            tax: terms.tax,
            taxCents: tax,
            totalCents: subtotal + tax
        )
    }
}

/// The operator's catalogue file (`--plans-file`): `{"plans": [{"id", "name",
/// "credits_per_month", "includes_rollover_protection", "position", "active", "prices": {"US":
/// {"monthly_cents", "yearly_cents", "rollover_protection_monthly_cents"}}}]}`.
public struct PlanCatalogueFile: Sendable, Decodable {
    public struct Entry: Sendable, Decodable {
        public var id: String
        public var name: String
        public var creditsPerMonth: Int64
        public var includesRolloverProtection: Bool?
        public var position: Int?
        public var active: Bool?
        public var prices: [String: PlanPrices]

        enum CodingKeys: String, CodingKey {
            case id, name, position, active, prices
            case creditsPerMonth = "credits_per_month"
            case includesRolloverProtection = "includes_rollover_protection"
        }
    }

    public var plans: [Entry]

    /// The catalogue's plans, or the first reason one is refused.
    public func catalogue() -> Result<[CataloguePlan], CatalogueFileError> {
        var result: [CataloguePlan] = []
        for (index, entry) in plans.enumerated() {
            var prices: [Country: PlanPrices] = [:]
            for (code, price) in entry.prices {
                guard let country = Country(rawValue: code.uppercased()) else {
                    return .failure(CatalogueFileError("plan \(entry.id): \(code) is not a country we sell in."))
                }
                prices[country] = price
            }
            if let reason = CataloguePlan.check(
                id: entry.id,
                name: entry.name,
                creditsPerMonth: entry.creditsPerMonth,
                prices: prices
            ) {
                return .failure(CatalogueFileError("plan \(entry.id): \(reason)"))
            }
            result.append(
                CataloguePlan(
                    id: entry.id,
                    name: entry.name,
                    creditsPerMonth: entry.creditsPerMonth,
                    includesRolloverProtection: entry.includesRolloverProtection ?? false,
                    prices: prices,
                    position: entry.position ?? index,
                    active: entry.active ?? true
                )
            )
        }
        return .success(result)
    }
}

/// Why a catalogue file cannot be used.
public struct CatalogueFileError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What each phone number costs in credits a month, by country and number type (PastorsLine:
/// 125 per number). Simulator test numbers cost nothing: they reach no one.
public struct NumberCharges: Sendable, Equatable {
    /// Credits a month by number type ("local", "toll_free"), for every country.
    public var byKind: [String: Int64]
    /// Country-specific overrides ("AU" → "local" → 150).
    public var byCountry: [Country: [String: Int64]]

    public init(byKind: [String: Int64], byCountry: [Country: [String: Int64]] = [:]) {
        self.byKind = byKind
        self.byCountry = byCountry
    }

    public static let standard = NumberCharges(byKind: ["local": 125, "toll_free": 125])

    public func credits(kind: String, country: Country) -> Int64 {
        guard kind != "test" else { return 0 }
        return byCountry[country]?[kind] ?? byKind[kind] ?? 0
    }

    /// Reads "local=125,toll_free=125,AU.local=150".
    public static func parse(_ text: String) -> NumberCharges? {
        var charges = NumberCharges(byKind: standard.byKind)
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, let credits = Int64(pair[1]), credits >= 0, credits <= 100_000 else { return nil }
            let key = pair[0].split(separator: ".").map(String.init)
            let kinds = ["local", "toll_free"]
            if key.count == 1, kinds.contains(key[0]) {
                charges.byKind[key[0]] = credits
            } else if key.count == 2, let country = Country(rawValue: key[0].uppercased()), kinds.contains(key[1]) {
                charges.byCountry[country, default: [:]][key[1]] = credits
            } else {
                return nil
            }
        }
        return charges
    }
}
