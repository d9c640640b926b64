/// `application/x-www-form-urlencoded`, as Twilio's API and webhooks use it. Works on UTF-8
/// bytes: every delivery report passes through here, so it avoids Foundation's string bridging.
public enum FormEncoding {
    /// Encodes pairs in the given order; only ASCII letters, digits and `-._~` stay as they are.
    public static func encode(_ pairs: [(String, String)]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(pairs.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 2 } * 2)
        for (index, (name, value)) in pairs.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "&")) }
            append(name, to: &bytes)
            bytes.append(UInt8(ascii: "="))
            append(value, to: &bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func append(_ text: String, to bytes: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            }
        }
    }

    /// Decodes a body; repeated names keep the last value. `+` is a space; a name or value with
    /// a malformed escape (or escapes that are not UTF-8) is kept exactly as it was sent.
    public static func decode(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in pairs(text) { result[name] = value }
        return result
    }

    /// Decodes a body into its pairs in order, keeping repeated names (a web form's checkboxes).
    public static func pairs(_ text: String) -> [(String, String)] {
        text.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let name = component(pair[pair.startIndex..<(equals ?? pair.endIndex)])
            let value = equals.map { component(pair[pair.index(after: $0)...]) } ?? ""
            return (name, value)
        }
    }

    static func component(_ raw: Substring.UTF8View.SubSequence) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                let first = raw.index(after: index)
                guard first < raw.endIndex, raw.index(after: first) < raw.endIndex,
                    let high = hexValue(raw[first]), let low = hexValue(raw[raw.index(after: first)])
                else { return String(Substring(raw)) }
                bytes.append(high << 4 | low)
                index = raw.index(after: first)
            } else {
                bytes.append(byte)
            }
            index = raw.index(after: index)
        }
        return String(validating: bytes, as: UTF8.self) ?? String(Substring(raw))
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
