import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Imports run as jobs in bounded transactions: a big one never keeps another organisation's
/// writes waiting, and every row says what became of it.
@Suite struct ContactImportTests {
    static let stores = TestDatabase.available

    /// `count` rows, each in `groups` groups; every 100th (99, 199 …) has a bad phone, and rows
    /// 248, 498 … repeat the number of the row before.
    static func rows(_ count: Int, groups: Int) -> [[String: Any]] {
        (0..<count).map { index in
            let number = index % 250 == 248 ? index - 1 : index
            let phone = index % 100 == 99 ? "not a phone" : "+1415\(200 + number / 8000)\(2000 + number % 8000)"
            return [
                "name": "Parent \(index)", "phone": phone,
                "groups": (0..<groups).map { "class \($0)" },
            ]
        }
    }

    @Test(arguments: stores)
    func aLargeImportIsAcceptedAtOnceAndAddedByTheJobWithEveryRowAccountedFor(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let accepted = try await server.request(
                .post,
                "/v1/contacts/import",
                key: org.ownerKey,
                json: try jsonText(["contacts": ContactImportTests.rows(1_500, groups: 3)])
            )
            #expect(accepted.status == .accepted, "\(accepted.text)")
            let id = try #require(try accepted.object()["id"] as? String)
            #expect(accepted.headers[.location] == "/v1/contacts/imports/\(id)")
            #expect(try accepted.object()["status"] as? String == "queued")
            #expect(try accepted.object()["refused"] as? Int == 15, "bad rows are refused while checking")
            #expect(try await server.request(.get, "/v1/contacts?limit=1", key: org.ownerKey).list().isEmpty)

            var passes = 0
            while try await server.services.contactImports.runNext() > 0 { passes += 1 }
            #expect(passes > 1, "added in several bounded batches")
            let job = try await server.request(.get, "/v1/contacts/imports/\(id)", key: org.ownerKey).object()
            #expect(job["status"] as? String == "completed")
            #expect(job["total"] as? Int == 1_500)
            #expect(job["processed"] as? Int == 1_500)
            #expect(job["refused"] as? Int == 15)
            #expect(job["skipped"] as? Int == 6)
            #expect(job["added"] as? Int == 1_479)
            let errors = try #require(job["errors"] as? [[String: Any]])
            #expect(errors.first?["index"] as? Int == 99)
            #expect((errors.first?["code"] as? String)?.hasPrefix("phone_") == true)

            // Every row, a page at a time; or only one outcome, with its reason.
            var seen = 0
            var cursor: String?
            repeat {
                let path = "/v1/contacts/imports/\(id)/rows?limit=400" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await server.request(.get, path, key: org.ownerKey)
                seen += try page.list().count
                cursor = try page.object()["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == 1_500)
            let skipped = try await server.request(
                .get,
                "/v1/contacts/imports/\(id)/rows?outcome=skipped",
                key: org.ownerKey
            ).list()
            #expect(skipped.map { $0["index"] as? Int } == [248, 498, 748, 998, 1248, 1498])
            #expect(skipped.first?["code"] as? String == "already_present")

            let groups = try await server.request(.get, "/v1/groups?limit=2", key: org.ownerKey)
            #expect(try groups.list().map { $0["name"] as? String } == ["class 0", "class 1"])
            #expect(try groups.list().first?["contacts"] as? Int == 1_479)
            let next = try #require(try groups.object()["next_cursor"] as? String)
            let rest = try await server.request(.get, "/v1/groups?limit=2&cursor=\(next)", key: org.ownerKey).list()
            #expect(rest.map { $0["name"] as? String } == ["class 2"])

            let audit = try await server.request(
                .get,
                "/v1/audit-log?action=contact.imported",
                key: org.ownerKey
            ).list()
            #expect(
                audit.compactMap { $0["message"] as? String } == [
                    "Imported 1479 contacts (6 already present, 15 rows refused)."
                ]
            )
            let imports = try await server.request(.get, "/v1/contacts/imports", key: org.ownerKey).list()
            #expect(imports.map { $0["id"] as? String } == [id])
        }
    }

    /// The attack from the review: 50 groups per contact made one import hold the write lock for
    /// 52 s. Now each transaction adds at most `unitsPerBatch` contacts-and-memberships, and
    /// another organisation writes between two of them.
    @Test(arguments: stores)
    func anotherOrganisationWritesBetweenTwoBatchesOfABigImport(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let big = try await server.makeOrganization("Big School")
            let other = try await server.makeOrganization("Small Studio")
            let accepted = try await server.request(
                .post,
                "/v1/contacts/import",
                key: big.ownerKey,
                json: try jsonText(["contacts": ContactImportTests.rows(1_200, groups: 50)])
            )
            #expect(accepted.status == .accepted)
            let first = try await server.services.contactImports.runNext()
            #expect(first == ContactImportService.unitsPerBatch / 51, "a batch is bounded by its memberships")
            let write = try await server.request(
                .post,
                "/v1/contacts",
                key: other.ownerKey,
                json: #"{"name": "Ana Ortiz", "phone": "+14155550100"}"#
            )
            #expect(write.status == .created)
            let id = try #require(try accepted.object()["id"] as? String)
            let job = try await server.request(.get, "/v1/contacts/imports/\(id)", key: big.ownerKey).object()
            #expect(job["status"] as? String == "running")
            #expect(job["processed"] as? Int == 12 + first, "12 refused while checking, then one batch")
            // Another organisation sees neither the import nor its rows.
            #expect(
                try await server.request(.get, "/v1/contacts/imports/\(id)", key: other.ownerKey).status == .notFound
            )
            #expect(
                try await server.request(.get, "/v1/contacts/imports/\(id)/rows", key: other.ownerKey).status
                    == .notFound
            )
            try await server.services.contactImports.runAll()
            let done = try await server.request(.get, "/v1/contacts/imports/\(id)", key: big.ownerKey).object()
            #expect(done["status"] as? String == "completed")
            #expect(done["added"] as? Int == 1_200 - 12 - 4)
        }
    }

    @Test func anUploadInterruptedWhileStoringFailsAndSaysSo() async throws {
        try await TestServer.with(.sqlite) { server in
            let org = try await server.makeOrganization()
            let job = ContactImport(
                id: "imp_interrupted",
                organizationID: org.id,
                actor: .system,
                consent: nil,
                total: 5_000,
                createdAt: server.clock.now
            )
            try await server.services.stores.contactImports.create(job)
            #expect(try await server.services.contactImports.failInterrupted() == 0)
            server.clock.advance(3601)
            #expect(try await server.services.contactImports.failInterrupted() == 1)
            let view = try await server.request(.get, "/v1/contacts/imports/imp_interrupted", key: org.ownerKey)
                .object()
            #expect(view["status"] as? String == "failed")
            #expect((view["failure"] as? String)?.contains("interrupted") == true)
        }
    }

    @Test(arguments: stores)
    func staffAndKeysArePaged(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            for _ in 0..<3 { _ = try await server.addStaff(org, role: .staff) }
            for path in ["/v1/staff", "/v1/api-keys"] {
                var names: [String] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let page = try await server.request(
                        .get,
                        "\(path)?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""),
                        key: org.ownerKey
                    )
                    #expect(page.status == .ok, "\(page.text)")
                    names += try page.list().compactMap { $0["id"] as? String }
                    cursor = try page.object()["next_cursor"] as? String
                    pages += 1
                } while cursor != nil
                #expect(names.count == 4, "\(path)")
                #expect(Set(names).count == 4, "\(path) pages do not overlap")
                #expect(pages == 3, "\(path)")
            }
            let bad = try await server.request(.get, "/v1/staff?cursor=nonsense", key: org.ownerKey)
            #expect(bad.status == .badRequest)
        }
    }
}
