import Foundation

/// Carries a credit amount through JSON as an exact decimal number.
///
/// Foundation's `Decimal` is exact for thousandths, so `1.5` is written as `1.5`, never as a
/// binary-float approximation; on the way in, anything with more than three decimals is refused.
struct CreditsJSONNumber: Codable {
    let credits: Credits

    init(_ credits: Credits) { self.credits = credits }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        // sign × significand × 10^-3, built without a division.
        let magnitude = Decimal(credits.milli.magnitude)
        let value = Decimal(sign: credits.milli < 0 ? .minus : .plus, exponent: -3, significand: magnitude)
        try container.encode(value)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(Decimal.self)
        let text = NSDecimalNumber(decimal: value).stringValue
        guard let parsed = Credits(decimal: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "credits must be a number with at most 3 decimals"
            )
        }
        self.credits = parsed
    }
}
