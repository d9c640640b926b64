import CreditsCore
import CreditsServices
import Foundation
import Testing

@testable import CreditsServer

/// The flat reader answers as Foundation's JSON parser does, on valid lines and on broken ones.
@Suite struct FlatJSONTests {
    static let pieces = [
        "{", "}", "[", "]", ":", ",", " ", "\t", "\n", "\"text\"", "\"channel\"", "\"smart_encoding\"", "\"a\\\"b\"",
        "\"\\u00e9\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\u12\"", "\"\\x\"", "\"é😀\"", "\"\u{1}\"",
        "\"\\/\\b\\f\\n\\r\\t\"",
        "true", "false", "null", "tru", "0", "-0", "01", "1.5e+3", "1.", ".5", "-", "1e", "123456789012",
        "\"\"", "\"x\"", "{}", "[]", "[1,[2,{\"k\":null}]]", "{\"n\":{\"m\":[true]}}",
    ]

    /// What JSONDecoder (the CLI's reader before) makes of a line's fields.
    struct Probe: Decodable {
        var fields: [String: FlatJSON.Value] = [:]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            for key in container.allKeys {
                if try container.decodeNil(forKey: key) {
                    fields[key.stringValue] = .null
                } else if let text = try? container.decode(String.self, forKey: key) {
                    fields[key.stringValue] = .string(text)
                } else if let flag = try? container.decode(Bool.self, forKey: key) {
                    fields[key.stringValue] = .bool(flag)
                } else {
                    fields[key.stringValue] = .other
                }
            }
        }
    }

    @Test func randomLinesReadAsFoundationReadsThem() throws {
        var random = SeededGenerator(seed: 23)
        var objects = 0
        for round in 0..<30_000 {
            let line: String
            if round % 3 == 0 {
                // A well-formed object with some pieces as values, so many lines are valid.
                let fields = (0..<Int.random(in: 0...4, using: &random)).map { _ in
                    let name = ["\"text\"", "\"channel\"", "\"x\"", "\"smart_encoding\""].randomElement(using: &random)!
                    let value = FlatJSONTests.pieces.filter { !["{", "}", "[", "]", ":", ","].contains($0) }
                        .randomElement(using: &random)!
                    return "\(name):\(value)"
                }
                line = "{" + fields.joined(separator: ",") + "}"
            } else {
                line = (0..<Int.random(in: 1...8, using: &random)).map { _ in
                    FlatJSONTests.pieces.randomElement(using: &random)!
                }.joined()
            }
            // Validity as JSONSerialization (strict RFC 8259) sees it; fields as JSONDecoder reads them.
            let valid = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
            let read = Array(line.utf8).withUnsafeBufferPointer { bytes in Result { try FlatJSON.parse(bytes) } }
            switch (valid, read) {
            case (is [String: Any], .success(let flat)):
                objects += 1
                let probe = try JSONDecoder().decode(Probe.self, from: Data(line.utf8))
                #expect(Set(probe.fields.keys) == Set(flat.fields.map(\.name)), "\(line)")
                for (name, value) in probe.fields { #expect(flat[name] == value, "\(line): \(name)") }
            case (nil, .failure(let failure as FlatJSON.Failure)):
                // A lone number beyond a Double (1e123456789012) is JSON, but JSONSerialization refuses it.
                let hugeNumber = line.allSatisfy { "0123456789-+.eE \t\n".contains($0) }
                #expect(failure == .malformed || hugeNumber, "\(line)")
            case (.some, .failure(let failure as FlatJSON.Failure)):
                #expect(failure == .notAnObject, "\(line)")
            default:
                Issue.record("\(line): JSONSerialization \(String(describing: valid)), flat \(read)")
            }
        }
        #expect(objects > 4_000)
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let line = "{\"x\":" + String(repeating: "[", count: 100_000) + "}"
        let read = Array(line.utf8).withUnsafeBufferPointer { bytes in Result { try FlatJSON.parse(bytes) } }
        #expect(throws: FlatJSON.Failure.malformed) { try read.get() }
    }
}

extension FlatJSONTests {
    /// A body the API reads without JSONDecoder gives the input the strict decoder gives; every
    /// other body is left to the strict decoder (which names the problem).
    @Test func plainEstimateBodiesReadAsTheStrictDecoderReadsThem() throws {
        let values: [String: [String]] = [
            "\"body\"": ["\"Hi 😀\"", "\"\"", "\"a\\u0000b\"", "\"line\\nnext\"", "null", "1", "\"\\ud83d\\ude00\""],
            "\"channel\"": ["\"sms\"", "\"toll-free\"", "\"mms\"", "\"fax\"", "null", "true"],
            "\"smart_encoding\"": ["true", "false", "null", "\"yes\"", "0"],
            "\"signup\"": ["true", "false", "null"],
            "\"extra\"": ["1", "\"x\""],
        ]
        var random = SeededGenerator(seed: 24)
        var fast = 0
        for _ in 0..<5_000 {
            let names = values.keys.sorted().shuffled(using: &random).prefix(Int.random(in: 1...4, using: &random))
            var fields = names.map { "\($0): \(values[$0]!.randomElement(using: &random)!)" }
            if Bool.random(using: &random) && Int.random(in: 0..<10, using: &random) == 0 { fields.append(fields[0]) }
            let line = "{" + fields.joined(separator: ", ") + "}"
            let flat = Array(line.utf8).withUnsafeBufferPointer { bytes in
                (try? FlatJSON.parse(bytes, strictUTF8: true)).flatMap { EstimateInput(flat: $0) }
            }
            guard let flat else { continue }
            fast += 1
            let strict = try JSONInput.decode(EstimateInput.self, from: Data(line.utf8))
            #expect(flat.body == strict.body, "\(line)")
            #expect(flat.channel == strict.channel, "\(line)")
            #expect(flat.smartEncoding == strict.smartEncoding, "\(line)")
            #expect(flat.signup == strict.signup, "\(line)")
        }
        #expect(fast > 300)
    }

    @Test func invalidUTF8IsRefusedWhenStrictAndRepairedOtherwise() throws {
        let line: [UInt8] = Array(#"{"body": "a"#.utf8) + [0xFF] + Array(#""}"#.utf8)
        let strict = line.withUnsafeBufferPointer { bytes in Result { try FlatJSON.parse(bytes, strictUTF8: true) } }
        let repaired = line.withUnsafeBufferPointer { bytes in Result { try FlatJSON.parse(bytes) } }
        #expect(throws: FlatJSON.Failure.malformed) { try strict.get() }
        #expect(try repaired.get()["body"] == .string("a\u{FFFD}"))
    }
}

extension FlatJSONTests {
    /// A file saved with a byte-order mark reads as JSONDecoder reads it.
    @Test func aLeadingByteOrderMarkIsSkipped() throws {
        let line: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(#"{"text": "hi"}"#.utf8)
        let read = line.withUnsafeBufferPointer { bytes in Result { try FlatJSON.parse(bytes) } }
        #expect(try read.get()["text"] == .string("hi"))
        struct Text: Decodable { var text: String }
        #expect(try JSONDecoder().decode(Text.self, from: Data(line)).text == "hi")
    }
}
