import Foundation
import TestSupport
import Testing

@Suite struct EstimateCommandTests {
    func json(_ line: Substring) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func aSingleTextPrintsItsBreakdown() async throws {
        let output = try await CommandLineTool.run(["estimate", "Hello World"])
        #expect(output.status == 0)
        #expect(output.standardOutput.contains("GSM-7"))
        #expect(output.standardOutput.contains("Credits:     1 per recipient"))
    }

    @Test(arguments: [("", "body_empty"), (String(repeating: "a", count: 1601), "body_too_long")])
    func aRefusedBodyPrintsAnErrorAndExitsNonZero(_ text: String, _ code: String) async throws {
        let output = try await CommandLineTool.run(["estimate", "--json", text])
        #expect(output.status != 0)
        let object = try json(Substring(output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect((object["error"] as? [String: Any])?["code"] as? String == code)
    }

    @Test func jsonLinesAnswerEachLineAndGoOnAfterABadOne() async throws {
        let input = """
            {"text": "Hello World"}
            not json
            {"text": "😜23456789012345678901234567890123456789012345678901234567890123456789012", "channel": "toll-free"}
            {"text": ""}
            {"text": "“Hi” it’s", "smart_encoding": true}
            """
        let output = try await CommandLineTool.run(["estimate", "--jsonl"], input: input + "\n")
        #expect(output.status == 0)
        let lines = output.standardOutput.split(separator: "\n")
        #expect(lines.count == 5)
        let first = try json(lines[0])
        #expect(first["encoding"] as? String == "GSM-7")
        #expect(first["segments"] as? Int == 1)
        #expect(first["units"] as? Int == 11)
        #expect(first["per_segment_units"] as? [Int] == [11])
        #expect(first["credits"] as? Double == 1)
        #expect(first["warnings"] as? [Any] != nil)
        #expect((try json(lines[1])["error"] as? [String: Any])?["code"] as? String == "invalid_json")
        let third = try json(lines[2])
        #expect(third["encoding"] as? String == "UCS-2")
        #expect(third["per_segment_units"] as? [Int] == [67, 6])
        #expect(third["credits"] as? Double == 3)
        #expect((try json(lines[3])["error"] as? [String: Any])?["code"] as? String == "body_empty")
        #expect(try json(lines[4])["encoding"] as? String == "GSM-7")
    }
}

extension EstimateCommandTests {
    /// Thousands of lines are answered on every core and still come back one per line, in order;
    /// CR LF endings, blank lines and a last line without a line feed are read as before.
    @Test func manyLinesKeepTheirOrder() async throws {
        var input = ""
        for count in 1...3_000 {
            input += "{\"text\": \"\(String(repeating: "a", count: count % 400 + 1))\"}"
            input += count % 7 == 0 ? "\r\n" : "\n"
            if count % 500 == 0 { input += "  \n" }
        }
        input += "{\"text\": \"last\"}"
        let output = try await CommandLineTool.run(["estimate", "--jsonl"], input: input)
        #expect(output.status == 0)
        let lines = output.standardOutput.split(separator: "\n")
        #expect(lines.count == 3_001)
        for (index, line) in lines.prefix(3_000).enumerated() {
            #expect(try json(line)["units"] as? Int == (index + 1) % 400 + 1, "line \(index + 1)")
        }
        #expect(try json(lines[3_000])["units"] as? Int == 4)
    }

    /// The line the CLI writes carries the API's fields with the API's values.
    @Test func aLineIsTheAPIsEstimateNarrowed() async throws {
        let texts = [
            "Hi 😀 it’s “quoted” at bit.ly/x — YOU MUST PAY NOW", "Hello\tWorld",
            "]" + String(repeating: "x", count: 170),
        ]
        let input = texts.map { #"{"text": "\#($0.replacingOccurrences(of: "\t", with: "\\t"))"}"# }.joined(
            separator: "\n"
        )
        let output = try await CommandLineTool.run(["estimate", "--jsonl"], input: input)
        let lines = output.standardOutput.split(separator: "\n")
        #expect(lines.count == texts.count)
        for (text, line) in zip(texts, lines) {
            let api = try await CommandLineTool.run(["estimate", "--json", text])
            let full = try json(Substring(api.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)))
            let narrowed = try json(line)
            #expect(
                Set(narrowed.keys) == ["credits", "encoding", "per_segment_units", "segments", "units", "warnings"]
            )
            for key in narrowed.keys {
                let sorted: (Any) throws -> Data = {
                    try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed])
                }
                #expect(try sorted(narrowed[key]!) == sorted(full[key]!), "\(text): \(key)")
            }
        }
    }
}
