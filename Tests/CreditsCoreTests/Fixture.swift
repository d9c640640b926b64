import Foundation

/// Reads files from `Tests/CreditsCoreTests/Fixtures`, next to this source file.
enum Fixture {
    static func url(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
            .appendingPathComponent(name)
    }

    static func lines(_ name: String) -> [String] {
        guard let text = try? String(contentsOf: url(name), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }
}
