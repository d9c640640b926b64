import Foundation

/// A local webhook endpoint run from `Tests/CreditsAdaptersTests/Fixtures/webhook_receiver.py`
/// with the python named by TEXTCREDITS_TEST_SMTP_PYTHON (the tests' python, which `.ci/run`
/// sets up with aiosmtpd and standardwebhooks): it checks every request with the PyPI
/// `standardwebhooks` library against the secrets given with `setSecrets`, answers the status
/// codes its path asks for, and `requests()` reads what it received.
public final class WebhookTestReceiver: Sendable {
    let fixture: PythonFixture
    public let port: Int
    public let output: URL
    public let secrets: URL

    public static func start() async throws -> WebhookTestReceiver {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try WebhookTestReceiver() }) }
        }
    }

    private init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("webhooks-\(UUID().uuidString)")
        output = base.appendingPathExtension("jsonl")
        secrets = base.appendingPathExtension("json")
        try Data("{}".utf8).write(to: secrets)
        fixture = try PythonFixture("webhook_receiver.py", [output.path, secrets.path])
        guard let port = Int(fixture.firstLine) else {
            fixture.stop()
            throw CocoaError(
                .fileReadCorruptFile,
                userInfo: [
                    NSLocalizedDescriptionKey:
                        "webhook_receiver.py did not start (is standardwebhooks installed for the tests' python?)"
                ]
            )
        }
        self.port = port
    }

    /// The address of endpoint `name`; `statuses` are answered to its first requests, then 200.
    public func url(_ name: String, statuses: [Int] = []) -> String {
        "http://127.0.0.1:\(port)/hook/\(name)"
            + (statuses.isEmpty ? "" : "/" + statuses.map(String.init).joined(separator: ","))
    }

    /// The secrets each endpoint's requests are checked against, by name.
    public func setSecrets(_ secrets: [String: [String]]) throws {
        try JSONSerialization.data(withJSONObject: secrets).write(to: self.secrets, options: .atomic)
    }

    /// One request received.
    public struct Received: Sendable {
        public var name: String
        public var id: String
        public var timestamp: String
        public var signature: String
        public var body: String
        public var verified: [Bool]
        public var status: Int

        /// The event's type, from its body.
        public var type: String? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["type"] as? String
        }
    }

    public func requests() throws -> [Received] {
        guard let text = try? String(contentsOf: output, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map {
            let object = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
            return Received(
                name: object["name"] as? String ?? "",
                id: object["id"] as? String ?? "",
                timestamp: object["timestamp"] as? String ?? "",
                signature: object["signature"] as? String ?? "",
                body: object["body"] as? String ?? "",
                verified: object["verified"] as? [Bool] ?? [],
                status: object["status"] as? Int ?? 0
            )
        }
    }

    /// Stops the receiver and removes its files, so no test run leaves them in the temporary directory.
    deinit {
        fixture.stop()
        try? FileManager.default.removeItem(at: output)
        try? FileManager.default.removeItem(at: secrets)
    }
}
