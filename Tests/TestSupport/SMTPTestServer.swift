import Foundation

/// A local aiosmtpd (STARTTLS required, AUTH PLAIN mailer/s3cret, recipients @nowhere.example
/// refused) run from `Tests/CreditsAdaptersTests/Fixtures/smtp_server.py` with the python named
/// by TEXTCREDITS_TEST_SMTP_PYTHON, which `.ci/run` sets up; `messages()` reads what it accepted.
public final class SMTPTestServer: Sendable {
    let fixture: PythonFixture
    public var process: Process { fixture.process }
    public let port: Int
    public let certificate: String
    public let output: URL

    /// Starts one; reading its first line happens on a Dispatch thread, never blocking the
    /// cooperative pool the client itself needs.
    public static func start() async throws -> SMTPTestServer {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try SMTPTestServer() }) }
        }
    }

    private init() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString).jsonl")
        fixture = try PythonFixture("smtp_server.py", [output.path])
        let parts = fixture.firstLine.split(separator: " ").map(String.init)
        guard parts.count == 2, let port = Int(parts[0]) else {
            fixture.stop()
            throw CocoaError(
                .fileReadCorruptFile,
                userInfo: [NSLocalizedDescriptionKey: "smtp_server.py did not start"]
            )
        }
        self.port = port
        certificate = parts[1]
    }

    public func messages() throws -> [[String: Any]] {
        guard let text = try? String(contentsOf: output, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    /// Stops the server and removes what it wrote, so no test run leaves it in the temporary directory.
    deinit {
        fixture.stop()
        try? FileManager.default.removeItem(at: output)
    }
}

extension SMTPTestServer {
    /// True when a python with aiosmtpd was given.
    public static var isAvailable: Bool { ProcessInfo.processInfo.environment["TEXTCREDITS_TEST_SMTP_PYTHON"] != nil }
}
