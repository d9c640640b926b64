/// An amount of messaging credits, counted in integer milli-credits (1 credit = 1000).
///
/// Some prices are fractional (a toll-free segment costs 1.5 credits, machine detection 0.5),
/// so the unit is a thousandth of a credit; floating point never touches an amount.
public struct Credits: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Milli-credits per credit.
    public static let scale: Int64 = 1000
    /// The zero amount.
    public static let zero = Credits(milli: 0)

    /// The amount in milli-credits.
    public var milli: Int64

    /// Wraps an amount already expressed in milli-credits.
    public init(milli: Int64) { self.milli = milli }

    /// Builds an amount from whole credits; traps on overflow, which only a programmer error can cause.
    public init(credits: Int64) {
        let (value, overflow) = credits.multipliedReportingOverflow(by: Credits.scale)
        precondition(!overflow, "credit amount overflows Int64 milli-credits")
        self.milli = value
    }

    /// Parses a decimal string with at most three decimals ("12", "1.5", "-0.125").
    /// Returns nil for anything else, including exponents, more decimals, or overflow.
    public init?(decimal text: String) {
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" {
            negative = true
            digits = digits.dropFirst()
        } else if digits.first == "+" {
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholePart = parts.first, !wholePart.isEmpty || parts.count == 2 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 3, parts.count == 1 || !fraction.isEmpty else { return nil }
        guard wholePart.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        guard wholePart.count <= 15 else { return nil }
        let whole = Int64(wholePart.isEmpty ? "0" : String(wholePart)) ?? 0
        let paddedFraction = String(fraction) + String(repeating: "0", count: 3 - fraction.count)
        let thousandths = Int64(paddedFraction) ?? 0
        let magnitude = whole * Credits.scale + thousandths
        self.milli = negative ? -magnitude : magnitude
    }

    /// The amount as a decimal string with no trailing zeros ("1", "1.5", "0.125").
    public var decimalString: String {
        let sign = milli < 0 ? "-" : ""
        let magnitude = milli.magnitude
        let whole = magnitude / UInt64(Credits.scale)
        let fraction = magnitude % UInt64(Credits.scale)
        guard fraction != 0 else { return "\(sign)\(whole)" }
        var fractionText = String(fraction)
        fractionText = String(repeating: "0", count: 3 - fractionText.count) + fractionText
        while fractionText.hasSuffix("0") { fractionText.removeLast() }
        return "\(sign)\(whole).\(fractionText)"
    }

    /// Human form used in messages and logs.
    public var description: String { decimalString }

    /// The amount with its noun, singular for exactly one: "1 credit", "2.5 credits", "0 plan credits".
    public func counted(_ noun: String = "credit") -> String {
        "\(decimalString) \(noun)\(self == Credits(credits: 1) ? "" : "s")"
    }

    /// True when the amount is above zero.
    public var isPositive: Bool { milli > 0 }

    public static func < (lhs: Credits, rhs: Credits) -> Bool { lhs.milli < rhs.milli }
    // Arithmetic saturates instead of trapping: amounts from outside are range-checked where they
    // enter, and a value that slipped past would make a refusal ("not enough credits"), not a crash.
    public static func + (lhs: Credits, rhs: Credits) -> Credits {
        Credits(milli: saturating(lhs.milli.addingReportingOverflow(rhs.milli)))
    }
    public static func - (lhs: Credits, rhs: Credits) -> Credits {
        Credits(milli: saturating(lhs.milli.subtractingReportingOverflow(rhs.milli)))
    }
    public static func += (lhs: inout Credits, rhs: Credits) { lhs = lhs + rhs }
    public static func -= (lhs: inout Credits, rhs: Credits) { lhs = lhs - rhs }
    public static prefix func - (value: Credits) -> Credits { Credits.zero - value }
    /// Multiplies a per-unit price by a count of units (segments, minutes, recipients).
    public static func * (lhs: Credits, rhs: Int) -> Credits {
        let (product, overflow) = lhs.milli.multipliedReportingOverflow(by: Int64(rhs))
        guard overflow else { return Credits(milli: product) }
        return Credits(milli: (lhs.milli < 0) == (rhs < 0) ? .max : .min)
    }

    /// The sum or difference, or the nearest bound when it overflowed (the wrapped value then has
    /// the wrong sign).
    static func saturating(_ result: (partialValue: Int64, overflow: Bool)) -> Int64 {
        guard result.overflow else { return result.partialValue }
        return result.partialValue < 0 ? .max : .min
    }

    /// Encodes as a JSON number with at most three decimals.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(CreditsJSONNumber(self))
    }

    /// Decodes a JSON number or string with at most three decimals.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), let value = Credits(decimal: text) {
            self = value
            return
        }
        let number = try container.decode(CreditsJSONNumber.self)
        self = number.credits
    }
}

extension Character {
    /// True for the ten ASCII digits only (Character.isNumber also accepts other scripts' digits).
    public var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
