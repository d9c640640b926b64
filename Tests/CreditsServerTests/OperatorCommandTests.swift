import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import SQLKit
import TestSupport
import Testing

/// The operator's commands for the first hour: `--version`, `orgs list`, `keys create`, and the
/// benchmarks' temporary databases.
@Suite struct OperatorCommandTests {
    static let stores = TestDatabase.available

    func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// Runs the command line on the test database and requires it to succeed.
    func run(_ arguments: [String], on url: DatabaseURL) async throws -> String {
        let output = try await CommandLineTool.run(arguments + ["--database", url.commandLineValue])
        try #require(output.status == 0, "\(arguments): \(output.standardError)")
        return output.standardOutput
    }

    /// Creates an organisation through the command line; its id and first key.
    func createOrganization(_ name: String, country: String, on url: DatabaseURL) async throws -> (String, String) {
        let created = try json(
            try await run(
                ["orgs", "create", "--name", name, "--country", country, "--timezone", "America/Chicago", "--json"],
                on: url
            )
        )
        let object = try #require(created as? [String: Any])
        return (try #require(object["organization_id"] as? String), try #require(object["api_key"] as? String))
    }

    @Test func versionPrintsTheVersionString() async throws {
        let output = try await CommandLineTool.run(["--version"])
        #expect(output.status == 0)
        #expect(output.standardOutput == TextCreditsVersion.current + "\n")
    }

    @Test(arguments: stores)
    func orgsListShowsEveryOrganisationWithItsPool(_ store: TestDatabase) async throws {
        try await store.with { _, url in
            let (gym, _) = try await createOrganization("Bright Stars Gym", country: "US", on: url)
            let (swim, _) = try await createOrganization("Koala Swim School", country: "AU", on: url)
            _ = try await run(["credits", "adjust", "--org", gym, "--credits", "1", "--reason", "Welcome"], on: url)
            let listed = try #require(try json(try await run(["orgs", "list", "--json"], on: url)) as? [[String: Any]])
            #expect(listed.map { $0["id"] as? String } == [gym, swim])
            #expect(listed.map { $0["name"] as? String } == ["Bright Stars Gym", "Koala Swim School"])
            #expect(listed.map { $0["country"] as? String } == ["US", "AU"])
            #expect(listed.map { $0["credit_mode"] as? String } == ["shared", "shared"])
            #expect(listed.map { $0["pool_balance"] as? String } == ["1", "0"])
            #expect(listed.allSatisfy { ($0["created"] as? String)?.hasSuffix("Z") == true })
            let table = try await run(["orgs", "list"], on: url).split(separator: "\n")
            #expect(table.count == 3)
            #expect(table[0].hasPrefix("ID ") && table[0].hasSuffix("POOL"))
            #expect(table[1].hasPrefix(gym) && table[1].contains("Bright Stars Gym") && table[1].hasSuffix(" 1"))
        }
    }

    @Test(arguments: stores)
    func keysCreateMakesAWorkingAuditedKeyForThatStaffMemberOnly(_ store: TestDatabase) async throws {
        try await store.with { database, url in
            let (gym, _) = try await createOrganization("Bright Stars Gym", country: "US", on: url)
            let (swim, _) = try await createOrganization("Koala Swim School", country: "AU", on: url)
            let printed = try #require(
                try json(
                    try await run(
                        [
                            "keys", "create", "--org", gym, "--email", "OWNER@brightstarsgym.example", "--name",
                            "Replacement", "--json",
                        ],
                        on: url
                    )
                ) as? [String: Any]
            )
            let key = try #require(printed["api_key"] as? String)
            let organizations = OrganizationStore(database: database)
            let principal = try #require(
                try await PrincipalResolver(organizations: organizations, now: { Date() }).principal(forKey: key)
            )
            #expect(principal.organizationID.rawValue == gym)
            #expect(principal.staff.email == "owner@brightstarsgym.example")
            #expect(printed["staff_id"] as? String == principal.staff.id)
            let audit = try await database.read { sql in
                try await sql.raw(
                    "SELECT message, actor_name FROM audit_log WHERE action = 'api_key.created' AND organization_id = \(bind: gym)"
                ).all().map {
                    (
                        try $0.decode(column: "message", as: String.self),
                        try $0.decode(column: "actor_name", as: String.self)
                    )
                }
            }
            #expect(audit.map(\.0) == ["API key Replacement created for Owner."])
            #expect(audit.map(\.1) == ["Operator (command line)"])

            // Another organisation's staff member, nobody, or two ways of naming them: refused, nothing made.
            let other = try await CommandLineTool.run([
                "keys", "create", "--org", swim, "--email", "owner@brightstarsgym.example", "--database",
                url.commandLineValue,
            ])
            #expect(other.status != 0)
            #expect(other.standardError.contains("was not found"))
            let both = try await CommandLineTool.run([
                "keys", "create", "--org", gym, "--email", "a@b.example", "--staff", "stf_1", "--database",
                url.commandLineValue,
            ])
            #expect(both.status != 0)
            #expect(both.standardError.contains("Give either --staff or --email"))
            let keys = try await database.read { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM api_keys").first()?.decode(column: "n", as: Int.self)
            }
            #expect(keys == 3)
        }
    }

    @Test func aBenchmarkDeletesTheDatabaseItMadeUnlessKept() async throws {
        func database(in output: String) throws -> String {
            let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("database: sqlite:") })
            return String(line.dropFirst("database: sqlite:".count).prefix { $0 != " " })
        }
        let deleted = try await CommandLineTool.run(["bench", "ledger", "--holds", "100", "--concurrency", "10"])
        #expect(deleted.status == 0, "\(deleted.standardError)")
        let path = try database(in: deleted.standardOutput)
        #expect(path.hasPrefix(FileManager.default.temporaryDirectory.path))
        #expect(deleted.standardOutput.contains("deleted \(path) ("))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent))

        let kept = try await CommandLineTool.run(["bench", "ledger", "--holds", "100", "--concurrency", "10", "--keep"])
        #expect(kept.status == 0, "\(kept.standardError)")
        let keptPath = try database(in: kept.standardOutput)
        #expect(kept.standardOutput.contains("kept \(keptPath) ("))
        #expect(FileManager.default.fileExists(atPath: keptPath))
        try FileManager.default.removeItem(atPath: (keptPath as NSString).deletingLastPathComponent)
    }

    @Test func theFirstRunNoteNamesTheSellerSettingsUntilTheyAreSet() throws {
        var configuration = AppConfiguration()
        let note = try #require(configuration.sellerNote)
        #expect(note.contains("\"TextCredits\" with no address or tax id"))
        for name in ["TEXTCREDITS_SELLER_NAME", "TEXTCREDITS_SELLER_ADDRESS", "TEXTCREDITS_SELLER_TAX_ID"] {
            #expect(note.contains(name))
        }
        configuration.seller = Seller(name: "Example Messaging Pty Ltd", address: "1 Example St", taxID: nil)
        #expect(configuration.sellerNote?.contains("TEXTCREDITS_SELLER_TAX_ID") == true)
        #expect(configuration.sellerNote?.contains("TEXTCREDITS_SELLER_NAME") == false)
        configuration.seller.taxID = "ABN 53 004 085 616"
        #expect(configuration.sellerNote == nil)
    }
}
