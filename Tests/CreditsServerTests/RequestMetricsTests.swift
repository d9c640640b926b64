import CreditsServices
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import CreditsServer

/// Every request is counted and timed under its route, method and status, as Hummingbird's own
/// metrics middleware did (the names `/metrics` shows and CI's promtool check read): answers in
/// memory are recorded when the route returns them and written untouched (one write to the
/// socket), streamed answers once their last byte is written or once when dropped unwritten, and
/// refusals as errors with the status the client gets.
@Suite struct RequestMetricsTests {
    /// The process's registry, as `/metrics` shows it (swift-metrics reports to it from first use).
    static func exposition() -> String {
        String(decoding: MetricsSetup.registry.emitToBuffer(), as: UTF8.self)
    }

    /// The value of one series, or nil when it is not there.
    static func value(_ series: String) -> Double? {
        for line in exposition().split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func answersStreamsAndRefusalsAreCountedUnderTheirRoute() async throws {
        _ = MetricsSetup.registry
        let probe = "/metrics-probe-\(UUID().uuidString.prefix(8).lowercased())"
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware())
        router.get("\(probe)/json") { _, _ in
            Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"ok\":true}")))
        }
        router.get("\(probe)/stream") { _, _ in
            Response(
                status: .ok,
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "a,b\n"))
                    try await writer.write(ByteBuffer(string: "1,2\n"))
                    try await writer.finish(nil)
                }
            )
        }
        router.get("\(probe)/refused") { _, _ -> Response in throw CreditError.transferNotPositive }

        try await Application(router: router).test(.router) { client in
            for _ in 0..<2 {
                let json = try await client.execute(uri: "\(probe)/json", method: .get)
                #expect(json.status == .ok)
                #expect(String(buffer: json.body) == "{\"ok\":true}", "the answer is written as the route gave it")
            }
            let stream = try await client.execute(uri: "\(probe)/stream", method: .get)
            #expect(String(buffer: stream.body) == "a,b\n1,2\n")
            _ = try await client.execute(uri: "\(probe)/refused", method: .get)
        }

        func series(_ name: String, _ route: String, _ status: String, key: String = "http_response_status_code")
            -> String
        {
            "\(name){http_route=\"\(probe)/\(route)\",http_request_method=\"GET\",\(key)=\"\(status)\"}"
        }
        #expect(Self.value(series("hb_requests_total", "json", "200")) == 2)
        #expect(Self.value(series("http_server_request_duration_seconds_count", "json", "200")) == 2)
        #expect(Self.value(series("hb_requests_total", "stream", "200")) == 1)
        #expect(Self.value(series("http_server_request_duration_seconds_count", "stream", "200")) == 1)
        // A refusal counts with the status the client is answered with, not as a 500.
        let refusal = try #require(ErrorMiddleware.known(CreditError.transferNotPositive)?.status.code)
        #expect((400..<500).contains(refusal))
        #expect(Self.value(series("hb_requests_total", "refused", "\(refusal)")) == 1)
        #expect(Self.value(series("hb_request_errors_total", "refused", "\(refusal)", key: "error_type")) == 1)
        #expect(Self.value(series("http_server_request_duration_seconds_count", "refused", "\(refusal)")) == 1)
        #expect(Self.value(series("hb_requests_total", "refused", "500")) == nil)
    }

    /// Collects what a body writes.
    struct Collector: ResponseBodyWriter {
        var written: [ByteBuffer] = []
        mutating func write(_ buffer: ByteBuffer) async throws { written.append(buffer) }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    /// The middleware called directly, with a method only this test uses, so the gauge of
    /// requests in progress can be read exactly while answers are still unwritten.
    @Test func anAnswerInMemoryIsRecordedAtOnceAndAStreamWhenWrittenOrDropped() async throws {
        _ = MetricsSetup.registry
        let method = HTTPRequest.Method("PROBE")!
        let middleware = RequestMetricsMiddleware<BasicRequestContext>()
        let context = BasicRequestContext(
            source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: Logger(label: "test"))
        )
        let request = Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: "/probe"),
            body: RequestBody(buffer: ByteBuffer())
        )
        let active = "http_server_active_requests{http_request_method=\"PROBE\"}"
        func count(_ status: Int) -> Double? {
            Self.value(
                "hb_requests_total{http_route=\"Unknown\",http_request_method=\"PROBE\",http_response_status_code=\"\(status)\"}"
            )
        }

        // In memory: recorded when the route returns, before anything is written.
        let buffered = try await middleware.handle(request, context: context) { _, _ in
            Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "{}")))
        }
        #expect(buffered.body.contentLength == 2)
        #expect(count(200) == 1)
        #expect(Self.value(active) == 0)

        // Streamed: recorded once its last byte is written.
        var streamed: Response? = try await middleware.handle(request, context: context) { _, _ in
            Response(
                status: .created,
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "row\n"))
                    try await writer.finish(nil)
                }
            )
        }
        #expect(count(201) == nil || count(201) == 0, "not yet written")
        #expect(Self.value(active) == 1)
        let body = try #require(streamed).body
        streamed = nil
        try await body.write(Collector())
        #expect(count(201) == 1)
        #expect(Self.value(active) == 0)

        // Streamed but never written (the client left before the head went): recorded once, when dropped.
        var dropped: Response? = try await middleware.handle(request, context: context) { _, _ in
            Response(status: .accepted, body: ResponseBody { writer in try await writer.finish(nil) })
        }
        #expect(Self.value(active) == 1)
        #expect(dropped?.status == .accepted)
        dropped = nil
        #expect(count(202) == 1)
        #expect(Self.value(active) == 0)
    }
}
