import ArgumentParser
import CreditsCore
import CreditsServer
import Foundation

/// `textcredits estimate`: what a text costs, from the same code that places holds.
struct EstimateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Show the encoding, segments and credits of a text.",
        discussion: """
            With --jsonl, reads one JSON object per line from standard input \
            ({"text": …, "smart_encoding": bool, "channel": "sms"|"toll-free"|"mms"}) and writes one JSON object per line.
            """
    )

    @Option(help: "sms, toll-free or mms.") var channel: String = "sms"
    @Flag(name: .customLong("smart-encoding"), help: "Replace look-alike characters with GSM-7 ones first.")
    var smartEncoding = false
    @Option(help: "Message header prepended to the text (≤ 50 characters).") var header: String = ""
    @Option(help: "Message footer appended to the text (≤ 50 characters).") var footer: String = ""
    @Flag(help: "Print the estimate as JSON.") var json = false
    @Flag(help: "Read JSON lines from standard input and answer each with one JSON line.") var jsonl = false
    @Argument(help: "The message text.") var text: String?

    func validate() throws {
        if jsonl && text != nil { throw ValidationError("Give either TEXT or --jsonl, not both.") }
        if !jsonl && text == nil { throw ValidationError("Missing the message TEXT (or use --jsonl).") }
    }

    func run() throws {
        if jsonl {
            EstimateLines.run()
            return
        }
        let request = EstimateRequest(
            text: text ?? "",
            channel: channel,
            smartEncoding: smartEncoding,
            header: header,
            footer: footer
        )
        switch request.estimate() {
        case .success(let estimate):
            print(json ? EstimateLines.encode(estimate) : EstimateReport.text(estimate, channel: request.parsedChannel))
        case .failure(let error):
            if json {
                print(EstimateLines.encode(ErrorBody(code: error.code, message: error.message)))
            } else {
                FileHandle.standardError.write(Data("error: \(error.message) (\(error.code))\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}

/// The `--jsonl` mode: one answer per input line; a bad line gets an error line and the rest go on.
enum EstimateLines {
    static func run() {
        while let line = readLine(strippingNewline: true) {
            if line.allSatisfy(\.isWhitespace) { continue }
            print(answer(line))
        }
    }

    static func answer(_ line: String) -> String {
        let request: EstimateRequest
        do {
            request = try JSONDecoder().decode(EstimateRequest.self, from: Data(line.utf8))
        } catch {
            return encode(
                ErrorBody(
                    code: "invalid_json",
                    message: "The line is not a JSON object with a \"text\" string: \(EstimateLines.describe(error))"
                )
            )
        }
        switch request.estimate() {
        case .success(let estimate): return encode(EstimateLine(estimate))
        case .failure(let error): return encode(ErrorBody(code: error.code, message: error.message))
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "unreadable" }
        switch decoding {
        case .keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type for \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""
        case .dataCorrupted: return "malformed JSON"
        @unknown default: return "unreadable"
        }
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else {
            return #"{"error":{"code":"internal","message":"encoding failed"}}"#
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The answer line of `--jsonl`: the fields the issue names, nothing more.
struct EstimateLine: Encodable {
    let encoding: SMSEncoding
    let segments: Int
    let units: Int
    let perSegmentUnits: [Int]
    let credits: Credits
    let warnings: [LintWarning]

    init(_ estimate: Estimate) {
        encoding = estimate.encoding
        segments = estimate.segments
        units = estimate.units
        perSegmentUnits = estimate.perSegmentUnits
        credits = estimate.credits
        warnings = estimate.warnings
    }

    enum CodingKeys: String, CodingKey {
        case encoding, segments, units, credits, warnings
        case perSegmentUnits = "per_segment_units"
    }
}

/// `{"error": {"code", "message"}}`, the one error shape of the CLI and the API.
struct ErrorBody: Encodable {
    struct Detail: Encodable {
        let code: String
        let message: String
    }

    let error: Detail

    init(code: String, message: String) { error = Detail(code: code, message: message) }
}
