import CreditsCore

/// Writes JSON by hand for the hottest response, `POST /v1/estimate` (called on every keystroke):
/// Foundation's JSONEncoder spends more time than the estimate itself. A test checks that this
/// writer and JSONEncoder produce the same document.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    /// Forgets what was written, keeping the memory (a writer reused as an output buffer).
    public mutating func clear() { bytes.removeAll(keepingCapacity: true) }

    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        if UTF8Scan.allBytes(of: value, { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                raw("\\u00")
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func number(_ value: Int) {
        if value >= 0 && value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }
    public mutating func credits(_ value: Credits) { bytes.append(contentsOf: value.decimalString.utf8) }
    public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    /// `"name":` — keys are written in sorted order by the callers, as JSONEncoder.api does.
    public mutating func key(_ name: StaticString) {
        if let last = bytes.last, last != UInt8(ascii: "{") && last != UInt8(ascii: "[") {
            bytes.append(UInt8(ascii: ","))
        }
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }

    public mutating func array<T>(_ items: [T], _ element: (inout JSONWriter, T) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        body(&self)
        bytes.append(UInt8(ascii: "}"))
    }
}

/// The answer lines of `textcredits estimate --jsonl`, written without JSONEncoder.
public enum EstimateLineJSON {
    /// `{"credits","encoding","per_segment_units","segments","units","warnings"}`: the fields the
    /// CLI's line carries, keys sorted.
    public static func write(_ estimate: Estimate, into writer: inout JSONWriter) {
        writer.object { json in
            json.key("credits")
            json.credits(estimate.credits)
            json.key("encoding")
            json.string(estimate.encoding.rawValue)
            json.key("per_segment_units")
            json.array(estimate.perSegmentUnits) { $0.number($1) }
            json.key("segments")
            json.number(estimate.segments)
            json.key("units")
            json.number(estimate.units)
            json.key("warnings")
            json.array(estimate.warnings) { $0.warning($1) }
        }
    }

    /// `{"error":{"code","message"}}`, the one error shape of the CLI and the API.
    public static func writeError(code: String, message: String, into writer: inout JSONWriter) {
        writer.object { json in
            json.key("error")
            json.object { error in
                error.key("code")
                error.string(code)
                error.key("message")
                error.string(message)
            }
        }
    }
}

extension JSONWriter {
    mutating func warning(_ warning: LintWarning) {
        object { entry in
            entry.key("code")
            entry.string(warning.code.rawValue)
            entry.key("message")
            entry.string(warning.message)
            entry.key("part")
            entry.string(warning.part.rawValue)
            if let range = warning.range {
                entry.key("range")
                entry.object { span in
                    span.key("end")
                    span.number(range.end)
                    span.key("start")
                    span.number(range.start)
                }
            }
        }
    }
}

extension Estimate {
    /// This estimate as the API's JSON (same document as `JSONEncoder.api.encode(self)`).
    func jsonBytes() -> [UInt8] {
        var writer = JSONWriter()
        writer.object { json in
            json.key("characters")
            json.number(characters)
            json.key("credits")
            json.credits(credits)
            json.key("encoding")
            json.string(encoding.rawValue)
            json.key("per_segment_units")
            json.array(perSegmentUnits) { $0.number($1) }
            json.key("segments")
            json.number(segments)
            json.key("smart_encoding")
            json.object { report in
                report.key("alternative_credits")
                report.credits(smartEncoding.alternativeCredits)
                report.key("alternative_segments")
                report.number(smartEncoding.alternativeSegments)
                report.key("credits_saved")
                report.credits(smartEncoding.creditsSaved)
                report.key("enabled")
                report.bool(smartEncoding.enabled)
                report.key("replacements")
                report.array(smartEncoding.replacements) { item, replacement in
                    item.object { entry in
                        entry.key("index")
                        entry.number(replacement.index)
                        entry.key("original")
                        entry.string(replacement.original)
                        entry.key("replacement")
                        entry.string(replacement.replacement)
                    }
                }
            }
            json.key("text")
            json.string(text)
            json.key("ucs2_characters")
            json.array(forcingCharacters) { item, character in
                item.object { entry in
                    entry.key("character")
                    entry.string(character.character)
                    entry.key("index")
                    entry.number(character.index)
                    entry.key("utf16_offset")
                    entry.number(character.utf16Offset)
                }
            }
            json.key("units")
            json.number(units)
            json.key("warnings")
            json.array(warnings) { $0.warning($1) }
        }
        return writer.bytes
    }
}
