import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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
    public static func run(_ arguments: [String], input: String = "", environment: [String: String] = [:]) async throws
        -> Output
    {
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
        // Input is written, and standard error read, beside the reading of standard output: a
        // tool that answers as it reads (estimate --jsonl) would otherwise fill a pipe and wait.
        let writing = DispatchGroup()
        let input = Data(input.utf8)
        DispatchQueue.global().async(group: writing) {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        nonisolated(unsafe) var err = Data()
        DispatchQueue.global().async(group: writing) { err = stderr.fileHandleForReading.readDataToEndOfFile() }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        writing.wait()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            standardOutput: String(decoding: out, as: UTF8.self),
            standardError: String(decoding: err, as: UTF8.self),
            killedBySignal: process.terminationReason == .uncaughtSignal
        )
    }
}

/// A `textcredits` process left running (a server), stopped by a signal.
public final class RunningTool: @unchecked Sendable {
    // Safe: `process` is set once in init and only read afterwards; Process is thread-safe for these calls.
    let process: Process
    let output: Pipe

    /// Starts the tool; its output is kept for diagnostics.
    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = CommandLineTool.executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// True while the process runs.
    public var isRunning: Bool { process.isRunning }

    /// Sends a signal and waits (on a thread of its own) up to `seconds` for the exit status.
    public func stop(signal: Int32 = SIGTERM, within seconds: Double = 15) async -> (
        status: Int32, reason: Process.TerminationReason
    )? {
        kill(process.processIdentifier, signal)
        let process = self.process
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let deadline = Date().addingTimeInterval(seconds)
                while process.isRunning && Date() < deadline { usleep(20_000) }
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    continuation.resume(returning: nil)
                } else {
                    continuation.resume(returning: (process.terminationStatus, process.terminationReason))
                }
            }
        }
    }

    /// What the process printed so far (after it stopped).
    public func printed() -> String {
        String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
    }
}

/// Minimal HTTP calls from tests to a running server (no client library needed).
public enum HTTP {
    public struct Reply: Sendable {
        public var status: Int
        public var body: String
    }

    /// Sends a request with curl-like simplicity using URLSession.
    public static func send(
        _ method: String,
        _ url: String,
        key: String? = nil,
        json: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> Reply {
        guard let target = URL(string: url) else { throw URLError(.badURL) }
        var request = URLRequest(url: target)
        request.httpMethod = method
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(
            status: (response as? HTTPURLResponse)?.statusCode ?? 0,
            body: String(decoding: data, as: UTF8.self)
        )
    }

    /// Polls until the URL answers 200 or the time runs out.
    public static func waitUntilUp(_ url: String, seconds: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let reply = try? await send("GET", url), reply.status == 200 { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// A port that was free a moment ago: the kernel picks it (bind to port 0), and no two calls in
    /// this process get the same one. A random number could land on a port in use, such as CI's
    /// PostgreSQL, and the server started on it never answered.
    public static func freePort() -> Int {
        for _ in 0..<50 {
            guard let port = kernelPickedPort() else { continue }
            let fresh = handedOut.withLock { $0.insert(port).inserted }
            if fresh { return port }
        }
        return Int.random(in: 20_000...29_999)
    }

    private static let handedOut = Mutex<Set<Int>>([])

    private static func kernelPickedPort() -> Int? {
        #if canImport(Glibc)
            let socketType = Int32(SOCK_STREAM.rawValue)
        #else
            let socketType = SOCK_STREAM
        #endif
        let descriptor = socket(AF_INET, socketType, 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
