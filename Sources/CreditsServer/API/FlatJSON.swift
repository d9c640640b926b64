import CreditsCore
import CreditsServices

/// Reads one JSON object whose fields that matter are strings and booleans (`estimate --jsonl`'s
/// input lines), straight from UTF-8 bytes.
///
/// Foundation's JSONDecoder took a fifth of the CLI's time per line; no faster JSON reader is
/// among the packages this project may use, so this one is written here. It accepts exactly RFC
/// 8259, as JSONSerialization does (nested values of other fields are checked and skipped; JSONDecoder
/// let malformed values pass in fields it never read), and reads fields as JSONDecoder does (a
/// repeated name keeps its first value). A randomised test compares it with both.
public struct FlatJSON: Sendable, Equatable {
    /// A field's value as far as a flat reader cares.
    public enum Value: Sendable, Equatable {
        case string(String)
        case bool(Bool)
        case null
        /// A number, array or object.
        case other
    }

    /// Why a line was not read.
    public enum Failure: Error, Equatable {
        /// Not JSON at all.
        case malformed
        /// JSON, but not an object.
        case notAnObject
    }

    /// The fields in the order read.
    public private(set) var fields: [(name: String, value: Value)] = []

    public static func == (lhs: FlatJSON, rhs: FlatJSON) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The value of a field (its first, when the name is repeated), or nil when it is absent.
    public subscript(name: String) -> Value? { fields.first { $0.name == name }?.value }

    /// Reads one object from the bytes (surrounding whitespace allowed). Invalid UTF-8 inside a
    /// string is read as U+FFFD (as `readLine` did for the CLI), or refused when `strictUTF8`.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, strictUTF8: Bool = false) throws(Failure)
        -> FlatJSON
    {
        var reader = Reader(bytes: bytes, strictUTF8: strictUTF8)
        // A UTF-8 byte-order mark at the start is skipped, as JSONDecoder skips it.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { reader.position = 3 }
        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "{") else {
            // Valid JSON of another kind is "not an object"; anything else is malformed.
            try reader.skipValue()
            reader.skipWhitespace()
            guard reader.atEnd else { throw .malformed }
            throw .notAnObject
        }
        reader.position += 1
        var object = FlatJSON()
        reader.skipWhitespace()
        if reader.peek() == UInt8(ascii: "}") {
            reader.position += 1
        } else {
            while true {
                reader.skipWhitespace()
                let name = try reader.string()
                reader.skipWhitespace()
                guard reader.peek() == UInt8(ascii: ":") else { throw .malformed }
                reader.position += 1
                reader.skipWhitespace()
                object.fields.append((name, try reader.value()))
                reader.skipWhitespace()
                guard let next = reader.peek() else { throw .malformed }
                reader.position += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw .malformed }
            }
        }
        reader.skipWhitespace()
        guard reader.atEnd else { throw .malformed }
        return object
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        let strictUTF8: Bool
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>, strictUTF8: Bool) {
            self.bytes = bytes
            self.strictUTF8 = strictUTF8
        }

        func text(_ utf8: some Collection<UInt8>) throws(Failure) -> String {
            guard strictUTF8 else { return String(decoding: utf8, as: UTF8.self) }
            guard let text = String(validating: utf8, as: UTF8.self) else { throw .malformed }
            return text
        }

        var atEnd: Bool { position >= bytes.count }

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while position < bytes.count {
                let byte = bytes[position]
                guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
                position += 1
            }
        }

        mutating func value() throws(Failure) -> Value {
            switch peek() {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default:
                try skipValue()
                return .other
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let length = word.utf8CodeUnitCount
            guard position + length <= bytes.count else { throw .malformed }
            for offset in 0..<length where bytes[position + offset] != word.utf8Start[offset] { throw .malformed }
            position += length
        }

        /// Values nested deeper than this are refused, as JSONDecoder refuses them.
        static let depthMax = 512

        /// Checks and steps over any value.
        mutating func skipValue(depth: Int = 0) throws(Failure) {
            guard let byte = peek(), depth < Reader.depthMax else { throw .malformed }
            switch byte {
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "["):
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "]") {
                    position += 1
                    return
                }
                while true {
                    skipWhitespace()
                    try skipValue(depth: depth + 1)
                    skipWhitespace()
                    guard let next = peek() else { throw .malformed }
                    position += 1
                    if next == UInt8(ascii: "]") { return }
                    guard next == UInt8(ascii: ",") else { throw .malformed }
                }
            case UInt8(ascii: "{"):
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    position += 1
                    return
                }
                while true {
                    skipWhitespace()
                    _ = try string()
                    skipWhitespace()
                    guard peek() == UInt8(ascii: ":") else { throw .malformed }
                    position += 1
                    skipWhitespace()
                    try skipValue(depth: depth + 1)
                    skipWhitespace()
                    guard let next = peek() else { throw .malformed }
                    position += 1
                    if next == UInt8(ascii: "}") { return }
                    guard next == UInt8(ascii: ",") else { throw .malformed }
                }
            default: try number()
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(Failure) {
            func isDigit(_ byte: UInt8?) -> Bool { byte.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
            if peek() == UInt8(ascii: "-") { position += 1 }
            guard let first = peek(), isDigit(first) else { throw .malformed }
            position += 1
            if first != UInt8(ascii: "0") { while isDigit(peek()) { position += 1 } }
            if peek() == UInt8(ascii: ".") {
                position += 1
                guard isDigit(peek()) else { throw .malformed }
                while isDigit(peek()) { position += 1 }
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                position += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
                guard isDigit(peek()) else { throw .malformed }
                while isDigit(peek()) { position += 1 }
            }
        }

        /// A string, its escapes decoded; unescaped control characters and lone surrogates are errors.
        mutating func string() throws(Failure) -> String {
            guard peek() == UInt8(ascii: "\"") else { throw .malformed }
            position += 1
            let start = position
            // Fast path: no escapes.
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let read = try text(UnsafeBufferPointer(rebasing: bytes[start..<position]))
                    position += 1
                    return read
                }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { throw .malformed }
                position += 1
            }
            var decoded = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: "\"") { return try text(decoded) }
                guard byte >= 0x20 else { throw .malformed }
                guard byte == UInt8(ascii: "\\") else {
                    decoded.append(byte)
                    continue
                }
                guard let escape = peek() else { throw .malformed }
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var value = try hex4()
                    if value >= 0xD800 && value < 0xDC00 {
                        guard peek() == UInt8(ascii: "\\"), position + 1 < bytes.count,
                            bytes[position + 1] == UInt8(ascii: "u")
                        else { throw .malformed }
                        position += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw .malformed }
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    } else if value >= 0xDC00 && value < 0xE000 {
                        throw .malformed
                    }
                    guard let scalar = Unicode.Scalar(value) else { throw .malformed }
                    UTF8.encode(scalar) { decoded.append($0) }
                default: throw .malformed
                }
            }
            throw .malformed
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard position + 4 <= bytes.count else { throw .malformed }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                position += 1
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: throw .malformed
                }
                value = value << 4 | digit
            }
            return value
        }
    }
}

/// A request body that can be read from a flat JSON object without JSONDecoder when it is plain:
/// only its own fields, each of its type, no null, no NUL, no name twice. Anything else gives
/// nil and takes `JSONInput`'s strict decoder, which names the problem.
protocol FlatAPIInput: APIInput {
    init?(flat object: FlatJSON)
}

extension EstimateInput: FlatAPIInput {
    init?(flat object: FlatJSON) {
        var body: String?
        var channel: Channel?
        var smartEncoding: Bool?
        var signup: Bool?
        var seen: Set<String> = []
        for (name, value) in object.fields {
            guard seen.insert(name).inserted else { return nil }
            switch (name, value) {
            case ("body", .string(let text)) where !text.utf8.contains(0): body = text
            case ("channel", .string(let raw)):
                guard let parsed = Channel(rawValue: raw) else { return nil }
                channel = parsed
            case ("smart_encoding", .bool(let flag)): smartEncoding = flag
            case ("signup", .bool(let flag)): signup = flag
            default: return nil
            }
        }
        guard let body else { return nil }
        self.init(body: body, channel: channel, smartEncoding: smartEncoding, signup: signup)
    }
}
