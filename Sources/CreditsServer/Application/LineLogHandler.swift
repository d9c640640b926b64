import Foundation
import Logging
import Synchronization

/// The server's log lines, in swift-log's `StreamLogHandler` format (`timestamp level label:
/// key=value … [source] message` on standard error), with one difference that matters on every
/// request: metadata becomes text when a line is written, not each time it is set. Every request
/// sets its request id; at the warning level almost none writes a line, and the stream handler's
/// eager formatting cost about 8 % of `POST /v1/estimate`.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    /// Makes every logger of the process write through this handler (once, before the first logger).
    public static func bootstrap() {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        LineLogHandler.write(line(event, at: LineLogHandler.timestamp()))
    }

    /// Serialises lines from every thread, as the stream handler's `flockfile` did.
    private static let output = Mutex(())

    /// Writes a whole line to standard error; a closed or broken stderr loses the line, never the server.
    static func write(_ line: String) {
        var line = line
        output.withLock { _ in
            line.withUTF8 { DescriptorOutput.writeAll(UnsafeRawBufferPointer($0), to: STDERR_FILENO) }
        }
    }

    /// One line of the log, as `StreamLogHandler` writes it.
    func line(_ event: LogEvent, at timestamp: String) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, provided in provided } }
        if let explicit = event.metadata { merged.merge(explicit) { _, explicit in explicit } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let pairs = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        return
            "\(timestamp) \(event.level)\(label.isEmpty ? "" : " ")\(label):\(pairs) [\(event.source)] \(event.message)\n"
    }

    /// Local time as `2026-12-06T18:40:00+0000`.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
