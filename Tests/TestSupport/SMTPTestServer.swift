import Foundation

/// A local aiosmtpd (STARTTLS required, AUTH PLAIN mailer/s3cret, recipients @nowhere.example
/// refused) run from `Tests/CreditsAdaptersTests/Fixtures/smtp_server.py` with the python named
/// by TEXTCREDITS_TEST_SMTP_PYTHON, which `.ci/run` sets up; `messages()` reads what it accepted.
public final class SMTPTestServer: Sendable {
    public let process: Process
    /// Closing it stops the server, even if this process dies first.
    let input = Pipe()
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
        let python = ProcessInfo.processInfo.environment["TEXTCREDITS_TEST_SMTP_PYTHON"] ?? "python3"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CreditsAdaptersTests/Fixtures/smtp_server.py")
        output = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-\(UUID().uuidString).jsonl")
        let pipe = Pipe()
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, output.path]
        process.standardOutput = pipe
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = pipe.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line += chunk
        }
        let parts = String(decoding: line, as: UTF8.self).split(separator: " ").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard parts.count == 2, let port = Int(parts[0]) else {
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

    deinit {
        try? input.fileHandleForWriting.close()
        process.terminate()
    }
}

extension SMTPTestServer {
    /// True when a python with aiosmtpd was given.
    public static var isAvailable: Bool { ProcessInfo.processInfo.environment["TEXTCREDITS_TEST_SMTP_PYTHON"] != nil }
}
