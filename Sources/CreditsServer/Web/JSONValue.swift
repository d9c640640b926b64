import Foundation

/// Any JSON value. Pages use it twice: to turn a form into API input, and to turn the API's
/// views (the same Encodable values `/v1` returns) into what a Mustache template reads.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A decimal, with the text it was written as (so "2.50" is shown as written).
    case number(String, Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(JSONValue.text(value), value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(_, let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// A decimal without a trailing ".0".
    static func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// The value of an Encodable as the API writes it.
    public static func of(_ value: some Encodable) throws -> JSONValue {
        try JSONDecoder.api.decode(JSONValue.self, from: try JSONEncoder.api.encode(value))
    }

    /// The value as plain Swift values for a template: objects as dictionaries, lists as arrays,
    /// numbers as their text. Null becomes false, so `{{#field}}` skips it.
    public var template: Any {
        switch self {
        case .null: false
        case .bool(let value): value
        case .integer(let value): String(value)
        case .number(let text, _): text
        case .string(let value): value
        case .array(let values): values.map(\.template)
        case .object(let values): values.mapValues(\.template)
        }
    }

    /// A member of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let values) = self { values[key] } else { nil }
    }
}
