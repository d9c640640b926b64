/// A phone number in E.164 form (`+14155550100`), checked against its country's numbering plan.
///
/// Input styles accepted: national ("(415) 555-0100", "0412 345 678", "07700 900123"), international
/// with "+" ("+61 412 345 678", "+44 (0)7700 900123") or with an international prefix
/// ("00 44 …", "011 61 …", "0011 61 …"). Other countries are refused with a reason.
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// Toll-free prefixes of the North American numbering plan.
    public static let tollFreePrefixes: Set<String> = ["800", "833", "844", "855", "866", "877", "888"]

    /// Whether an E.164 number is a North American toll-free one (+1 800, 833 … 888).
    public static func isTollFree(_ e164: String) -> Bool {
        guard e164.hasPrefix("+1"), e164.count >= 5 else { return false }
        return tollFreePrefixes.contains(String(e164.dropFirst(2).prefix(3)))
    }

    /// The E.164 text, with the leading "+".
    public let e164: String
    /// The country the number belongs to.
    public let country: Country

    /// The E.164 form.
    public var description: String { e164 }

    public static func < (lhs: PhoneNumber, rhs: PhoneNumber) -> Bool { lhs.e164 < rhs.e164 }

    /// Longest input looked at; anything longer is not a phone number.
    static let inputLengthMax = 40

    /// Normalises `input`; national numbers are read in `defaultCountry`'s plan.
    public init(parsing input: String, defaultCountry: Country) throws(PhoneNumberError) {
        let trimmed = input.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .empty }
        guard trimmed.unicodeScalars.count <= PhoneNumber.inputLengthMax else { throw .tooLong }
        var digits = ""
        var international = false
        var sawDigit = false
        var remainder = Substring(trimmed)
        // "+44 (0) 20 …": the "(0)" trunk prefix written inside an international number is dropped.
        if let range = remainder.range(of: "(0)") { remainder.removeSubrange(range) }
        for character in remainder {
            if character.isASCIIDigit {
                digits.append(character)
                sawDigit = true
            } else if character == "+" && !sawDigit && !international {
                international = true
            } else if " -.()/\u{00A0}".contains(character) {
                continue
            } else {
                throw .invalidCharacter(String(character))
            }
        }
        if !international {
            // An international dialling prefix: 011 in North America, 0011 in Australia, 00 elsewhere.
            let prefixes = defaultCountry.usesNANP ? ["011"] : ["0011", "00"]
            if let prefix = prefixes.first(where: { digits.hasPrefix($0) }) {
                digits.removeFirst(prefix.count)
                international = true
            }
        }
        let (country, national) = try PhoneNumber.split(
            digits: digits,
            international: international,
            defaultCountry: defaultCountry
        )
        try PhoneNumber.validate(national: national, in: country)
        self.country = PhoneNumber.refine(country, national: national)
        self.e164 = "+" + country.callingCode + national
    }

    /// Wraps an E.164 text already known to be valid (read back from storage).
    public init?(e164: String) {
        guard e164.hasPrefix("+"), let parsed = try? PhoneNumber(parsing: e164, defaultCountry: .us),
            parsed.e164 == e164
        else { return nil }
        self = parsed
    }

    /// Splits the digits into a country and its national significant number (no trunk 0).
    static func split(digits: String, international: Bool, defaultCountry: Country) throws(PhoneNumberError) -> (
        Country, String
    ) {
        if international {
            for country in [Country.us, .au, .nz, .gb] where digits.hasPrefix(country.callingCode) {
                return (country, String(digits.dropFirst(country.callingCode.count)))
            }
            let code = String(digits.prefix(3))
            throw .unsupportedCountry(callingCode: code)
        }
        if defaultCountry.usesNANP {
            if digits.count == 11 && digits.hasPrefix("1") { return (defaultCountry, String(digits.dropFirst())) }
            return (defaultCountry, digits)
        }
        guard digits.hasPrefix("0") else {
            // Without the trunk 0 a number may still be complete national digits ("412 345 678").
            return (defaultCountry, digits)
        }
        return (defaultCountry, String(digits.dropFirst()))
    }

    /// Checks the national significant number against the country's plan.
    static func validate(national: String, in country: Country) throws(PhoneNumberError) {
        let bytes = Array(national.utf8).map { Int($0) - 48 }
        switch country {
        case .us, .ca:
            guard bytes.count >= 10 else { throw .tooShort }
            guard bytes.count == 10 else { throw .tooLong }
            guard bytes[0] >= 2 else { throw .invalidAreaCode(String(national.prefix(3))) }
            guard !(bytes[1] == 1 && bytes[2] == 1) else { throw .invalidAreaCode(String(national.prefix(3))) }
            guard bytes[3] >= 2 else { throw .invalidNumber("the exchange code cannot start with 0 or 1") }
        case .au:
            guard bytes.count >= 9 else { throw .tooShort }
            guard bytes.count == 9 else { throw .tooLong }
            guard [2, 3, 4, 7, 8].contains(bytes[0]) else {
                throw .invalidNumber("Australian numbers start with 02, 03, 04, 07 or 08")
            }
        case .nz:
            guard let first = bytes.first else { throw .tooShort }
            if first == 2 {
                guard bytes.count >= 8 else { throw .tooShort }
                guard bytes.count <= 10 else { throw .tooLong }
            } else {
                guard [3, 4, 6, 7, 9].contains(first) else {
                    throw .invalidNumber("New Zealand numbers start with 02, 03, 04, 06, 07 or 09")
                }
                guard bytes.count >= 8 else { throw .tooShort }
                guard bytes.count == 8 else { throw .tooLong }
            }
        case .gb:
            guard bytes.count >= 9 else { throw .tooShort }
            guard bytes.count <= 10 else { throw .tooLong }
            guard [1, 2, 3, 5, 7, 8, 9].contains(bytes.first ?? 0) else {
                throw .invalidNumber("UK numbers start with 01, 02, 03, 05, 07, 08 or 09")
            }
            if bytes.first == 7 || bytes.first == 2 || bytes.first == 3 {
                guard bytes.count == 10 else { throw .tooShort }
            }
        }
    }

    /// NANP numbers are told apart by area code: Canadian area codes belong to Canada.
    static func refine(_ country: Country, national: String) -> Country {
        guard country.usesNANP else { return country }
        return canadianAreaCodes.contains(String(national.prefix(3))) ? .ca : .us
    }

    /// Area codes assigned to Canada in the North American Numbering Plan.
    static let canadianAreaCodes: Set<String> = [
        "204", "226", "236", "249", "250", "257", "263", "289", "306", "343", "354", "365", "367", "368", "382",
        "387", "403", "416", "418", "428", "431", "437", "438", "450", "460", "468", "474", "506", "514", "519",
        "548", "579", "581", "584", "587", "600", "604", "613", "622", "639", "647", "672", "683", "705", "709",
        "742", "753", "778", "780", "782", "807", "819", "825", "867", "873", "879", "902", "905", "942",
    ]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let number = PhoneNumber(e164: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an E.164 phone number")
        }
        self = number
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(e164)
    }
}

extension Country {
    /// US and Canada share the North American Numbering Plan (+1).
    var usesNANP: Bool { self == .us || self == .ca }
}

/// Why a phone number was refused.
public enum PhoneNumberError: Error, Sendable, Equatable {
    case empty
    case invalidCharacter(String)
    case tooShort
    case tooLong
    case unsupportedCountry(callingCode: String)
    case invalidAreaCode(String)
    case invalidNumber(String)

    /// Stable code.
    public var code: String {
        switch self {
        case .empty: "phone_empty"
        case .invalidCharacter: "phone_invalid_character"
        case .tooShort: "phone_too_short"
        case .tooLong: "phone_too_long"
        case .unsupportedCountry: "phone_unsupported_country"
        case .invalidAreaCode: "phone_invalid_area_code"
        case .invalidNumber: "phone_invalid"
        }
    }

    /// A sentence for people.
    public var message: String {
        switch self {
        case .empty: "The phone number is empty."
        case .invalidCharacter(let character):
            "The phone number contains \u{201C}\(character)\u{201D}; use digits, spaces, dashes, dots, brackets and a leading +."
        case .tooShort: "The phone number has too few digits."
        case .tooLong: "The phone number has too many digits."
        case .unsupportedCountry(let code):
            "Numbers starting +\(code) are outside the supported countries (US, CA, AU, NZ, GB)."
        case .invalidAreaCode(let code): "\(code) is not a valid area code."
        case .invalidNumber(let reason): "The phone number is not valid: \(reason)."
        }
    }
}
