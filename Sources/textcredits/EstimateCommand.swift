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
///
/// Reads standard input in blocks of up to 1 MB, answers the complete lines of each read on every
/// core (each core takes a contiguous run of lines, so answers keep their order) and writes them
/// in one write per core.
enum EstimateLines {
    /// Input read at a time; lines are answered block by block.
    static let blockSize = 1 << 20

    static func run() {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var buffer: [UInt8] = []
        var filled = 0
        var atEnd = false
        while !atEnd {
            if buffer.count - filled < blockSize { buffer.append(contentsOf: repeatElement(0, count: blockSize)) }
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress! + filled, blockSize) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { atEnd = true } else { filled += count }
            // Answer every complete line (and at the end whatever is left), keep the rest.
            let end = atEnd ? filled : (buffer[..<filled].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
            // Whatever complete lines a read brought are answered at once: a file comes in full
            // blocks, a pipe or a terminal line by line as it is written.
            if end == 0 { continue }
            buffer.withUnsafeBufferPointer { answerLines(UnsafeBufferPointer(rebasing: $0[..<end]), workers: workers) }
            buffer.replaceSubrange(0..<end, with: EmptyCollection())
            filled -= end
        }
    }

    /// Answers the lines of one block and writes the answers in order.
    static func answerLines(_ block: UnsafeBufferPointer<UInt8>, workers: Int) {
        var lines: [Range<Int>] = []
        var lineStart = 0
        for index in block.indices where block[index] == 0x0A {
            lines.append(lineStart..<index)
            lineStart = index + 1
        }
        if lineStart < block.count { lines.append(lineStart..<block.count) }
        let parts = min(workers, max(1, lines.count / 64))
        var outputs = [JSONWriter](repeating: JSONWriter(capacity: 0), count: parts)
        outputs.withUnsafeMutableBufferPointer { results in
            nonisolated(unsafe) let results = results
            nonisolated(unsafe) let block = block
            let lines = lines
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                var output = JSONWriter(capacity: block.count * 2 / parts)
                for line in lines[(lines.count * part / parts)..<(lines.count * (part + 1) / parts)] {
                    answer(UnsafeBufferPointer(rebasing: block[line]), into: &output)
                }
                results[part] = output
            }
        }
        for output in outputs { write(output.bytes) }
    }

    static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { DescriptorOutput.writeAll($0, to: STDOUT_FILENO) }
    }

    /// Answers one input line (without its line feed) with one output line.
    static func answer(_ line: UnsafeBufferPointer<UInt8>, into output: inout JSONWriter) {
        var line = line
        if let last = line.last, last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
        if isBlank(line) { return }
        switch request(line) {
        case .success(let request):
            switch request.estimate() {
            case .success(let estimate): EstimateLineJSON.write(estimate, into: &output)
            case .failure(let error):
                EstimateLineJSON.writeError(code: error.code, message: error.message, into: &output)
            }
        case .failure(let problem):
            EstimateLineJSON.writeError(
                code: "invalid_json",
                message: "The line is not a JSON object with a \"text\" string: \(problem)",
                into: &output
            )
        }
        output.raw("\n")
    }

    /// Lines of nothing but whitespace are skipped (as `readLine` and `isWhitespace` see it).
    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0B || $0 == 0x0C || $0 == 0x0D }) { return true }
        if line.allSatisfy({ $0 < 0x80 }) { return false }
        return String(decoding: line, as: UTF8.self).allSatisfy(\.isWhitespace)
    }

    /// The request on a line, or why it is not one (in JSONDecoder's words, as before).
    static func request(_ line: UnsafeBufferPointer<UInt8>) -> Result<EstimateRequest, LineProblem> {
        let object: FlatJSON
        do {
            object = try FlatJSON.parse(line)
        } catch .malformed {
            return .failure(LineProblem("malformed JSON"))
        } catch {
            return .failure(LineProblem("wrong type for \"\""))
        }
        // Fields are read in the order JSONDecoder read them, so the first problem named is the same.
        func text(_ name: String, default fallback: String?) throws(LineProblem) -> String {
            switch object[name] {
            case .string(let value): return value
            case .none:
                guard let fallback else { throw LineProblem("missing \"\(name)\"") }
                return fallback
            case .null:
                guard let fallback else { throw LineProblem("wrong type for \"\(name)\"") }
                return fallback
            default: throw LineProblem("wrong type for \"\(name)\"")
            }
        }
        do throws(LineProblem) {
            let body = try text("text", default: nil)
            let channel = try text("channel", default: "sms")
            let smartEncoding: Bool
            switch object["smart_encoding"] {
            case .bool(let value): smartEncoding = value
            case .none, .null: smartEncoding = false
            default: throw LineProblem("wrong type for \"smart_encoding\"")
            }
            let header = try text("header", default: "")
            let footer = try text("footer", default: "")
            return .success(
                EstimateRequest(
                    text: body,
                    channel: channel,
                    smartEncoding: smartEncoding,
                    header: header,
                    footer: footer
                )
            )
        } catch {
            return .failure(error)
        }
    }

    /// Why a line is not a request.
    struct LineProblem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
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

/// `{"error": {"code", "message"}}`, the one error shape of the CLI and the API.
struct ErrorBody: Encodable {
    struct Detail: Encodable {
        let code: String
        let message: String
    }

    let error: Detail

    init(code: String, message: String) { error = Detail(code: code, message: message) }
}
