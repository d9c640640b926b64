import Foundation

/// A Python test server from `Tests/CreditsAdaptersTests/Fixtures/`, run with the python named by
/// TEXTCREDITS_TEST_SMTP_PYTHON (the tests' venv, which `.ci/run` sets up). It prints one line when
/// it is ready and serves until its standard input closes, so it stops with the test, however the
/// test ends.
struct PythonFixture {
    let process: Process
    let input: Pipe
    /// The first line it printed, trimmed.
    let firstLine: String

    /// Starts `script` with `arguments` and waits for its first line (call it off the
    /// cooperative pool: reading blocks).
    init(_ script: String, _ arguments: [String]) throws {
        let python = ProcessInfo.processInfo.environment["TEXTCREDITS_TEST_SMTP_PYTHON"] ?? "python3"
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CreditsAdaptersTests/Fixtures/\(script)")
        let output = Pipe()
        input = Pipe()
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [path.path] + arguments
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line += chunk
        }
        firstLine = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops it.
    func stop() {
        try? input.fileHandleForWriting.close()
        process.terminate()
    }
}
