import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import CreditsServer

/// Every request is counted and timed under its route, method and status, as Hummingbird's own
/// metrics middleware did (the names `/metrics` shows and CI's promtool check read): answers in
/// memory are recorded when the route returns them and written untouched (one write to the
/// socket), streamed answers once their last byte is written, and refusals as errors too.
@Suite struct RequestMetricsTests {
    @Test func answersStreamsAndRefusalsAreCountedAndTimed() async throws {
        let registry = MetricsSetup.registry  // swift-metrics reports to it from here on
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
        router.get("\(probe)/refused") { _, _ -> Response in throw HTTPError(.conflict) }

        try await Application(router: router).test(.router) { client in
            for _ in 0..<2 {
                let json = try await client.execute(uri: "\(probe)/json", method: .get)
                #expect(json.status == .ok)
                #expect(String(buffer: json.body) == "{\"ok\":true}", "the answer is written as the route gave it")
            }
            let stream = try await client.execute(uri: "\(probe)/stream", method: .get)
            #expect(String(buffer: stream.body) == "a,b\n1,2\n")
            #expect(try await client.execute(uri: "\(probe)/refused", method: .get).status == .conflict)
        }

        let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        func series(_ name: String, _ route: String, _ status: String, key: String = "http_response_status_code")
            -> String
        {
            "\(name){http_route=\"\(probe)/\(route)\",http_request_method=\"GET\",\(key)=\"\(status)\"}"
        }
        #expect(text.contains(series("hb_requests_total", "json", "200") + " 2"))
        #expect(text.contains(series("http_server_request_duration_seconds_count", "json", "200") + " 2"))
        #expect(text.contains(series("hb_requests_total", "stream", "200") + " 1"))
        #expect(text.contains(series("http_server_request_duration_seconds_count", "stream", "200") + " 1"))
        #expect(text.contains(series("hb_requests_total", "refused", "409") + " 1"))
        #expect(text.contains(series("hb_request_errors_total", "refused", "409", key: "error_type") + " 1"))
        #expect(text.contains("http_server_active_requests{http_request_method=\"GET\"}"))
    }
}
