/// The countries TextCredits serves self-serve (DESIGN §4), by ISO 3166-1 alpha-2 code.
public enum Country: String, Sendable, Codable, CaseIterable {
    case us = "US"
    case ca = "CA"
    case au = "AU"
    case nz = "NZ"
    case gb = "GB"

    /// The E.164 country calling code.
    public var callingCode: String {
        switch self {
        case .us, .ca: "1"
        case .au: "61"
        case .nz: "64"
        case .gb: "44"
        }
    }

    /// English name for messages.
    public var name: String {
        switch self {
        case .us: "United States"
        case .ca: "Canada"
        case .au: "Australia"
        case .nz: "New Zealand"
        case .gb: "United Kingdom"
        }
    }

    /// Parses "US", "us", and the common alias "UK".
    public init?(code: String) {
        let upper = code.uppercased()
        if upper == "UK" {
            self = .gb
            return
        }
        guard let country = Country(rawValue: upper) else { return nil }
        self = country
    }
}
