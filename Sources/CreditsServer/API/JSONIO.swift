import CreditsCore
import CreditsServices
import Foundation
import Hummingbird
import NIOCore

/// Strict JSON input: unknown fields are 400 and wrong types 422, each naming the field; a
/// body over the size limit is 413. Bad input never reaches a handler.
public enum JSONInput {
    /// Largest request body accepted.
    public static let bodySizeMax = 256 * 1024

    public static func decode<T: APIInput>(_ type: T.Type, from request: Request, sizeMax: Int = bodySizeMax)
        async throws -> T
    {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: sizeMax)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "The request body is larger than \(sizeMax / 1024) KB.")
        }
        // A plain body of a flat input is read without JSONDecoder; anything else is decoded strictly.
        if let flatType = type as? any FlatAPIInput.Type,
            let value = buffer.withUnsafeReadableBytes({ raw in
                raw.withMemoryRebound(to: UInt8.self) { bytes in
                    (try? FlatJSON.parse(bytes, strictUTF8: true)).flatMap { flatType.init(flat: $0) }
                }
            }) as? T
        {
            return value
        }
        return try decode(type, from: Data(buffer: buffer))
    }

    public static func decode<T: APIInput>(_ type: T.Type, from data: Data) throws -> T {
        guard !data.isEmpty else {
            throw APIError(.badRequest, "body_required", "Send a JSON object as the request body.")
        }
        // Text with an escaped NUL takes the slow path, which names the field it is in.
        if containsEscapedNUL(data) { try checkTree(data, allowed: T.fields) }
        do {
            return try JSONDecoder.api.decode(StrictBody<T>.self, from: data).value
        } catch let error as APIError {
            throw error
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                // Foundation reports a number it cannot hold (too large, or not whole where a
                // whole number is wanted) without saying where: find the field it is in.
                if let field = unreadableNumberField(type, in: data) {
                    throw APIError.invalid(
                        field,
                        "\(field) holds a number that is too large or is not a whole number.",
                        code: "field_invalid"
                    )
                }
                throw APIError(.badRequest, "invalid_json", "The request body is not valid JSON.")
            }
            if case .typeMismatch(_, let context) = error, context.codingPath.isEmpty {
                throw APIError(.badRequest, "invalid_json", "The request body must be a JSON object.")
            }
            throw describe(error)
        }
    }

    /// The top-level field holding a number Foundation could not read (too large for a whole
    /// number, or not whole): the field whose value holds such a number, and when several do,
    /// the one whose removal changes the decoder's complaint. Nil when the body is not a JSON
    /// object (it is then not JSON at all).
    static func unreadableNumberField<T: APIInput>(_ type: T.Type, in data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let suspects = object.keys.sorted().filter { holdsAWkwardNumber(object[$0] as Any) }
        guard suspects.count > 1 else { return suspects.first }
        for key in suspects {
            var without = object
            without[key] = nil
            guard let trimmed = try? JSONSerialization.data(withJSONObject: without) else { continue }
            do {
                _ = try JSONDecoder.api.decode(StrictBody<T>.self, from: trimmed)
                return key
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                continue
            } catch {
                return key
            }
        }
        return suspects.first
    }

    /// True when `value` holds a number that is not whole or does not fit in 64 bits.
    static func holdsAWkwardNumber(_ value: Any) -> Bool {
        switch value {
        case is Bool, is String: return false
        case let number as NSNumber:
            let double = number.doubleValue
            return !double.isFinite || double != double.rounded() || abs(double) >= 9.2e18
        case let array as [Any]: return array.contains(where: holdsAWkwardNumber)
        case let object as [String: Any]: return object.values.contains(where: holdsAWkwardNumber)
        default: return false
        }
    }

    /// Parses the body into a tree and checks fields and text (the slow path).
    static func checkTree(_ data: Data, allowed: JSONFields) throws {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw APIError(.badRequest, "invalid_json", "The request body is not valid JSON.")
        }
        guard let dictionary = object as? [String: Any] else {
            throw APIError(.badRequest, "invalid_json", "The request body must be a JSON object.")
        }
        try checkFields(dictionary, allowed: allowed, path: "")
    }

    /// True when the raw JSON holds `\u0000` as an escape (an odd number of backslashes before `u0000`).
    static func containsEscapedNUL(_ data: Data) -> Bool {
        let bytes = [UInt8](data)
        let pattern = Array("u0000".utf8)
        guard bytes.count > pattern.count else { return false }
        for index in 1..<(bytes.count - pattern.count + 1) where bytes[index] == UInt8(ascii: "u") {
            guard Array(bytes[index..<index + pattern.count]) == pattern else { continue }
            var backslashes = 0
            var cursor = index - 1
            while cursor >= 0 && bytes[cursor] == UInt8(ascii: "\\") {
                backslashes += 1
                cursor -= 1
            }
            if backslashes % 2 == 1 { return true }
        }
        return false
    }

    static func checkFields(_ object: [String: Any], allowed: JSONFields, path: String) throws {
        for (key, value) in object {
            let name = path.isEmpty ? key : "\(path).\(key)"
            guard let nested = allowed.fields[key] else {
                throw APIError(.badRequest, "unknown_field", "\(name) is not a field of this request.", field: name)
            }
            try checkText(value, field: name)
            if let nested, let child = value as? [String: Any] { try checkFields(child, allowed: nested, path: name) }
        }
    }

    /// No text anywhere may hold a NUL character: no store can keep it, and no person typed it.
    static func checkText(_ value: Any, field: String) throws {
        switch value {
        case let text as String where text.utf8.contains(0):
            throw APIError.invalid(field, "\(field) must not contain NUL characters.")
        case let array as [Any]:
            for element in array { try checkText(element, field: field) }
        case let object as [String: Any]:
            for (key, element) in object {
                if key.utf8.contains(0) { throw APIError.invalid(field, "\(field) must not contain NUL characters.") }
                try checkText(element, field: field)
            }
        default:
            return
        }
    }

    static func describe(_ error: DecodingError) -> APIError {
        func path(_ context: DecodingError.Context, _ extra: CodingKey? = nil) -> String {
            (context.codingPath + (extra.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let name = path(context, key)
            return .invalid(name, "\(name) is required.", code: "field_required")
        case .valueNotFound(_, let context):
            let name = path(context)
            return .invalid(name, "\(name) cannot be null.", code: "field_required")
        case .typeMismatch(let type, let context):
            let name = path(context)
            return .invalid(name, "\(name) must be \(describe(type)).", code: "field_type")
        case .dataCorrupted(let context):
            let name = path(context)
            return .invalid(name, "\(name) is not valid: \(context.debugDescription)", code: "field_invalid")
        @unknown default:
            return APIError(.badRequest, "invalid_json", "The request body could not be read.")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "a whole number"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default: "a number"
        }
    }
}

/// Decodes a request body while refusing fields the input does not have (at every declared
/// level), in the same pass as the decode itself.
struct StrictBody<T: APIInput>: Decodable {
    let value: T

    init(from decoder: any Decoder) throws {
        try StrictBody.check(try decoder.container(keyedBy: AnyKey.self), allowed: T.fields, path: "")
        value = try T(from: decoder)
    }

    static func check(_ container: KeyedDecodingContainer<AnyKey>, allowed: JSONFields, path: String) throws {
        for key in container.allKeys {
            let name = path.isEmpty ? key.stringValue : "\(path).\(key.stringValue)"
            guard let nested = allowed.fields[key.stringValue] else {
                throw APIError(.badRequest, "unknown_field", "\(name) is not a field of this request.", field: name)
            }
            // null is not a value of any field: leaving a field out is how to say nothing.
            if (try? container.decodeNil(forKey: key)) == true {
                throw APIError.invalid(name, "\(name) cannot be null: leave it out instead.", code: "field_required")
            }
            guard let nested else { continue }
            if let child = try? container.nestedContainer(keyedBy: AnyKey.self, forKey: key) {
                try check(child, allowed: nested, path: name)
            } else if var items = try? container.nestedUnkeyedContainer(forKey: key) {
                // A list of objects: each element has the nested fields.
                var index = 0
                while !items.isAtEnd, index < 100_000 {
                    if let element = try? items.nestedContainer(keyedBy: AnyKey.self) {
                        try check(element, allowed: nested, path: "\(name)[\(index)]")
                    } else {
                        _ = try? items.decode(AnyJSON.self)
                    }
                    index += 1
                }
            }
        }
    }
}

/// Skips any JSON value.
struct AnyJSON: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// Any JSON object key.
struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// JSON responses.
public enum JSONOutput {
    /// A response from JSON already written.
    static func response(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder.api.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
