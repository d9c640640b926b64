import Foundation

/// Runs the `textcredits` executable that `swift test` built next to the test bundle.
public enum CommandLineTool {
    public struct Output {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
        /// True when the process ended by a signal (`status` is then the signal number).
        public var killedBySignal: Bool
    }

    /// The built executable: it sits in the same build folder as the test runner.
    public static var executable: URL {
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("textcredits")
    }

    /// Runs the tool with arguments and standard input and waits for it to exit — on a thread of
    /// its own, so a test awaiting it never blocks the cooperative pool that other tests (and
    /// their open database transactions) need.
    public static func run(_ arguments: [String], input: String = "", environment: [String: String] = [:]) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(arguments, input: input, environment: environment) })
            }
        }
    }

    static func runBlocking(_ arguments: [String], input: String, environment: [String: String]) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, standardOutput: String(decoding: out, as: UTF8.self),
                      standardError: String(decoding: err, as: UTF8.self), killedBySignal: process.terminationReason == .uncaughtSignal)
    }
}
