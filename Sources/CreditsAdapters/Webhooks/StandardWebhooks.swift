import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// Signing by the Standard Webhooks specification: `webhook-signature` is `v1,` and the base64
/// HMAC-SHA256 of `id.timestamp.body` under the secret (`whsec_` and base64 key bytes); several
/// signatures, space-separated, while a rotated secret still overlaps the new one.
public enum StandardWebhooks {
    /// The prefix of a secret.
    public static let secretPrefix = "whsec_"

    /// A new secret: 24 random bytes.
    public static func makeSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return secretPrefix + Data(bytes).base64EncodedString()
    }

    /// The key bytes of a secret, or nil when it is not one.
    public static func key(of secret: String) -> Data? {
        guard secret.hasPrefix(secretPrefix) else { return nil }
        return Data(base64Encoded: String(secret.dropFirst(secretPrefix.count)))
    }

    /// `v1,<base64>` for one secret.
    public static func signature(id: String, timestamp: Int64, body: String, secret: String) -> String? {
        guard let key = key(of: secret) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(id).\(timestamp).\(body)".utf8),
            using: SymmetricKey(data: key)
        )
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The three headers, signed with every secret given (newest first).
    public static func headers(id: String, timestamp: Int64, body: String, secrets: [String]) -> [(String, String)] {
        let signatures = secrets.compactMap { signature(id: id, timestamp: timestamp, body: body, secret: $0) }
        return [
            ("webhook-id", id), ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signatures.joined(separator: " ")),
        ]
    }
}

/// What became of one try to deliver an event.
public struct WebhookAttemptResult: Sendable, Equatable {
    /// The endpoint's HTTP status, when it answered.
    public var status: Int?
    /// Why there was no answer (or what the answer said, shortened).
    public var error: String?
    /// How long the try took.
    public var milliseconds: Int

    public init(status: Int?, error: String?, milliseconds: Int) {
        self.status = status
        self.error = error
        self.milliseconds = milliseconds
    }

    /// A 2xx answer: delivered.
    public var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
}

/// Posts a signed event to an endpoint.
public protocol WebhookSender: Sendable {
    func send(url: String, headers: [(String, String)], body: String) async -> WebhookAttemptResult
}

/// Posts over HTTP with async-http-client: no redirects followed (an endpoint answers where it
/// was registered), a bounded wait, and at most 1 KB of the answer read and kept.
public struct HTTPWebhookSender: WebhookSender {
    let client: HTTPClient
    let timeout: TimeAmount

    public init(client: HTTPClient = HTTPWebhookSender.client, timeout: TimeAmount = .seconds(10)) {
        self.client = client
        self.timeout = timeout
    }

    /// The process's client for webhooks (like `HTTPClient.shared`, it lives as long as the
    /// process): no redirects followed, a 5 s connect timeout.
    public static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 8)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public func send(url: String, headers: [(String, String)], body: String) async -> WebhookAttemptResult {
        let start = ContinuousClock.now
        func elapsed() -> Int {
            let duration = ContinuousClock.now - start
            return Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "TextCredits-Webhooks/1")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await client.execute(request, timeout: timeout)
            var answer = (try? await response.body.collect(upTo: 1024)).map { String(buffer: $0) } ?? ""
            if answer.count > 200 { answer = String(answer.prefix(200)) + "…" }
            let status = Int(response.status.code)
            return WebhookAttemptResult(
                status: status,
                error: (200..<300).contains(status) ? nil : (answer.isEmpty ? nil : answer),
                milliseconds: elapsed()
            )
        } catch {
            return WebhookAttemptResult(status: nil, error: WebhookFailure.describe(error), milliseconds: elapsed())
        }
    }
}

/// A failure to reach an endpoint, in words.
enum WebhookFailure {
    static func describe(_ error: any Error) -> String {
        if let client = error as? HTTPClientError {
            switch client {
            case .deadlineExceeded, .readTimeout: return "The endpoint did not answer in time."
            case .connectTimeout: return "The endpoint could not be reached in time."
            case .remoteConnectionClosed: return "The endpoint closed the connection without answering."
            default: return "The endpoint could not be reached (\(client))."
            }
        }
        let text = String(describing: error)
        if text.localizedCaseInsensitiveContains("refused") { return "The endpoint refused the connection." }
        return "The endpoint could not be reached (\(text.prefix(160)))."
    }
}
