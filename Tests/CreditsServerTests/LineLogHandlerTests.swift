import Logging
import Testing

@testable import CreditsServer

/// The server's log lines read exactly as swift-log's stream handler writes them.
@Suite struct LineLogHandlerTests {
    final class Capture: TextOutputStream, @unchecked Sendable {
        var text = ""
        func write(_ string: String) { text += string }
    }

    @Test func aLineReadsAsTheStreamHandlersLine() {
        let capture = Capture()
        var stream = StreamLogHandler(label: "textcredits", stream: capture, metadataProvider: nil)
        var lines = LineLogHandler(label: "textcredits")
        for (key, value) in [("request_id", "req_1"), ("campaign", "cmp 2")] {
            stream[metadataKey: key] = .string(value)
            lines[metadataKey: key] = .string(value)
        }
        let events = [
            LogEvent(
                level: .warning,
                message: "held",
                metadata: ["b": "2", "campaign": "cmp_3"],
                source: "CreditsServer",
                file: #filePath,
                function: #function,
                line: #line
            ),
            LogEvent(
                level: .info,
                message: "plain",
                metadata: nil,
                source: nil,
                file: #filePath,
                function: "",
                line: 1
            ),
        ]
        for event in events {
            capture.text = ""
            stream.log(event: event)
            // Everything after the timestamp is the same.
            let expected = capture.text.drop { $0 != " " }
            #expect(lines.line(event, at: "T") == "T" + expected)
        }
    }
}
