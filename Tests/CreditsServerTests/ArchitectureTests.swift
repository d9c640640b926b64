import Foundation
import Testing

/// The layering rules of ARCHITECTURE.md, read off the source files: services know nothing of
/// HTTP or SQL, stores take no closures from above, and only the composition root holds the graph.
@Suite struct ArchitectureTests {
    /// A source file: its path under `Sources/` and its text.
    struct SourceFile: CustomStringConvertible {
        let path: String
        let text: String
        var description: String { path }
    }

    /// Every Swift file under `Sources/<target>`.
    static func sources(_ target: String) throws -> [SourceFile] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Sources")
        let directory = root.appendingPathComponent(target)
        guard let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            return []
        }
        return try files.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.map { url in
            SourceFile(
                path: url.path.replacingOccurrences(of: root.path + "/", with: ""),
                text: try String(contentsOf: url, encoding: .utf8)
            )
        }
    }

    @Test func theServicesImportNeitherHTTPNorSQL() throws {
        let files = try ArchitectureTests.sources("CreditsServices")
        #expect(files.count > 20, "the services were found")
        for file in files {
            for forbidden in [
                "import Hummingbird\n", "import SQLKit", "import SQLiteKit", "import PostgresKit", "APIError",
                "HTTPResponse",
            ] {
                #expect(!file.text.contains(forbidden), "\(file) mentions \(forbidden)")
            }
        }
    }

    @Test func noStoreTakesAClosure() throws {
        let stores = try ArchitectureTests.sources("CreditsStore").filter {
            $0.path.hasSuffix("Store.swift") || $0.path.contains("Store+")
        }
        #expect(stores.count >= 10, "the stores were found")
        for file in stores {
            #expect(!file.text.contains("@escaping"), "\(file) takes an escaping closure")
            #expect(!file.text.contains("typealias"), "\(file) declares a function type for callers to supply")
        }
    }

    @Test func onlyTheCompositionRootTakesTheWholeGraph() throws {
        let files = try ["CreditsServices", "CreditsServer", "CreditsStore", "CreditsAdapters", "CreditsCore"].flatMap(
            ArchitectureTests.sources
        )
        for file in files {
            let lines = file.text.split(separator: "\n")
            for line in lines where line.contains(": AppServices") || line.contains("AppServices,") {
                #expect(file.path.hasSuffix("CreditsServer/Application/Application+build.swift"), "\(file): \(line)")
            }
        }
    }
}
