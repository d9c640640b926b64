import Foundation
import TestSupport
import Testing

/// A newcomer's path: start the server, create an organisation with the CLI while it runs, use
/// the API with the printed key, adjust credits, and stop the server with SIGTERM.
@Suite struct ServeCommandTests {
    @Test func theServerRunsWithTheCLIAlongsideAndStopsGracefully() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let port = HTTP.freePort()
        let server = try RunningTool(
            ["serve", "--database", "sqlite:\(path)", "--port", "\(port)"],
            environment: ["TEXTCREDITS_METRICS_TOKEN": "scrape-token-1"]
        )
        let base = "http://127.0.0.1:\(port)"
        let up = await HTTP.waitUntilUp("\(base)/health")
        #expect(up, "the server did not come up")
        guard up else {
            _ = await server.stop()
            return
        }

        let created = try await CommandLineTool.run([
            "orgs", "create", "--name", "Bright Stars Gym", "--country", "AU",
            "--timezone", "Australia/Sydney", "--json", "--database", "sqlite:\(path)",
        ])
        #expect(created.status == 0, "\(created.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(created.standardOutput.utf8)) as? [String: Any]
        )
        let key = try #require(object["api_key"] as? String)
        let organization = try #require(object["organization_id"] as? String)

        let me = try await HTTP.send("GET", "\(base)/v1/organization", key: key)
        #expect(me.status == 200)
        #expect(me.body.contains("\"country\":\"AU\""))

        let adjusted = try await CommandLineTool.run([
            "credits", "adjust", "--org", organization, "--credits", "100",
            "--reason", "Goodwill", "--database", "sqlite:\(path)",
        ])
        #expect(adjusted.status == 0, "\(adjusted.standardError)")
        #expect(adjusted.standardOutput.contains("pool balance now 100"))
        let removed = try await CommandLineTool.run([
            "credits", "adjust", "--org", organization, "--credits", "-0.5",
            "--reason", "Correction", "--database", "sqlite:\(path)",
        ])
        #expect(removed.status == 0, "\(removed.standardError)")
        let credits = try await HTTP.send("GET", "\(base)/v1/credits", key: key)
        #expect(credits.body.contains("\"available\":99.5"))

        #expect(try await HTTP.send("GET", "\(base)/metrics").status == 401, "metrics are for the operator's scraper")
        let metrics = try await HTTP.send("GET", "\(base)/metrics", key: "scrape-token-1")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("hb_requests"))

        let stopped = await server.stop(signal: SIGTERM)
        #expect(stopped?.status == 0, "graceful shutdown exits 0: \(server.printed())")
        #expect(stopped?.reason == .exit)
    }

    @Test func anUnknownOrganisationOrBadAmountIsRefused() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("adjust-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let unknown = try await CommandLineTool.run([
            "credits", "adjust", "--org", "org_nope", "--credits", "5", "--reason", "x",
            "--database", "sqlite:\(path)",
        ])
        #expect(unknown.status != 0)
        #expect(unknown.standardError.contains("No organisation org_nope"))
        let bad = try await CommandLineTool.run([
            "credits", "adjust", "--org", "org_nope", "--credits", "1.2345", "--reason", "x",
            "--database", "sqlite:\(path)",
        ])
        #expect(bad.status != 0)
        let country = try await CommandLineTool.run([
            "orgs", "create", "--name", "X", "--country", "FR", "--timezone", "UTC",
            "--database", "sqlite:\(path)",
        ])
        #expect(country.status != 0)
        #expect(country.standardError.contains("--country must be US, CA, AU, NZ or GB"))
    }
}
