import Foundation

/// Which JSON fields a request body may have; a nested object lists its own (nil = a leaf).
public struct JSONFields: Sendable {
    public let fields: [String: JSONFields?]

    public init(_ fields: [String: JSONFields?]) { self.fields = fields }
    public init(_ names: [String]) { self.fields = Dictionary(uniqueKeysWithValues: names.map { ($0, nil) }) }
}

/// A request body the API accepts: its fields are known, so anything else is refused.
public protocol APIInput: Decodable {
    static var fields: JSONFields { get }
}

extension JSONEncoder {
    /// The API's encoder: ISO 8601 UTC times, stable key order.
    public static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension JSONDecoder {
    /// The API's decoder: RFC 3339 times (any offset up to ±23:59).
    public static let api: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription:
                        "\(text) is not a date and time like 2026-12-05T10:00:00Z or 2026-12-05T10:00:00-06:00."
                )
            }
            return date
        }
        return decoder
    }()
}
