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
    /// The API's decoder: ISO 8601 times.
    public static let api: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
