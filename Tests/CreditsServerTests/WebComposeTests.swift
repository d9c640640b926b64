import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

/// The composer's preview is the send: the same dry run that places the holds, so the credits it
/// shows are the credits then reserved; contacts are found as you type; a refused send keeps what
/// was typed; a campaign's page lists its recipients and follows them live.
@Suite struct WebComposeTests {
    static let stores = TestDatabase.available

    /// Four families: two opted in with a class (one name long enough to need a second segment),
    /// one opted in without the class (a merge error), one opted out and one never opted in.
    static func families(_ server: TestServer, _ org: TestServer.Org) async throws {
        let long = "Maximiliana-Josephine Fitzgerald-Okonkwo-Van-Der-Berg-Smythe-Rutherford-Lee"
        let rows: [[String: Any]] = [
            [
                "name": "Ana Ortiz", "phone": "+14155550101", "groups": ["families"],
                "fields": ["class_name": "Tumbling"],
            ],
            [
                "name": long, "first_name": long, "phone": "+14155550102", "groups": ["families"],
                "fields": ["class_name": "Tuesday Advanced Tumbling and Trampoline"],
            ],
            ["name": "Ben Park", "phone": "+14155550103", "groups": ["families"]],
        ]
        let imported = try await server.request(
            .post,
            "/v1/contacts/import",
            key: org.ownerKey,
            json: try jsonText(["contacts": rows, "consent": "opted_in"])
        )
        #expect(imported.status == .created, "\(imported.text)")
        let pending = try await server.request(
            .post,
            "/v1/contacts",
            key: org.ownerKey,
            json: #"{"name": "Cara Diaz", "phone": "+14155550104", "groups": ["families"]}"#
        )
        #expect(pending.status == .created, "\(pending.text)")
        try await server.importContacts(org, phones: ["+14155550105"])
        #expect(try await server.inbound(org, from: "+14155550105", "STOP").status == .ok)
    }

    static func array(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "\(text)")
    }

    static let body = "Hi {{first_name}}, {{class_name}} moves to 5pm Thursday. See you there! Bring water and a towel."

    @Test(arguments: stores)
    func thePreviewShowsExactlyWhatTheSendThenReserves(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 50)
            try await WebComposeTests.families(server, org)
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )

            let fields = ["body": WebComposeTests.body, "groups": "families"]
            let page = try await owner.post("/compose/preview", fields)
            #expect(page.status == .ok, "\(page.text)")
            #expect(page.text.contains("2 texts will reserve 3 credits of the 50 credits available."), "\(page.text)")
            #expect(page.text.contains("1 opted out") && page.text.contains("1 never opted in"))
            #expect(page.text.contains("Ben Park · +1 415 555 0103</b>: "), "the merge error names who")
            #expect(page.text.contains("Maximiliana-Josephine"), "the most expensive text is listed")
            #expect(page.text.contains("2 segments: "), "with why it costs two credits")
            #expect(page.text.contains(">Hi {{first_name}}, {{class_name}} moves"), "the text typed is kept")
            #expect(try await server.pool(org)["pending"] as? Double == 0, "a preview reserves nothing")

            // The API's dry run says the same.
            let api = try await server.request(
                .post,
                "/v1/messages/preview",
                key: org.ownerKey,
                json: try jsonText(["body": WebComposeTests.body, "groups": ["families"]])
            )
            #expect(api.status == .ok, "\(api.text)")
            let preview = try api.object()
            #expect(preview["credits"] as? Double == 3)
            #expect(preview["recipients"] as? Int == 2)
            #expect(preview["merge_error_count"] as? Int == 1)
            #expect((preview["skipped"] as? [String: Int]) == ["opted_out": 1, "not_opted_in": 1, "merge_field": 1])

            let sent = try await owner.post("/compose", fields)
            #expect(sent.status == .seeOther, "\(sent.text)")
            #expect(
                owner.flash?.contains(
                    "2 texts queued; 3 credits reserved; 3 skipped: 1 opted out, 1 never opted in, 1 a merge field is empty or unknown."
                ) == true,
                "\(owner.flash ?? "")"
            )
            #expect(
                try await server.pool(org)["pending"] as? Double == 3,
                "the preview's number is the number reserved"
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aRefusedSendKeepsWhatWasTypedAndChangesNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 1)
            try await WebComposeTests.families(server, org)
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let fields = ["body": "Practice is canceled tonight", "groups": "families", "to": "(415) 555-0199"]
            let preview = try await owner.post("/compose/preview", fields)
            #expect(
                preview.text.contains("3 texts need 3 credits; only 1 credit is available. Buy 2 credits more"),
                "\(preview.text)"
            )
            let refused = try await owner.post("/compose", fields)
            #expect(refused.status == .unprocessableContent, "\(refused.text)")
            #expect(refused.text.contains(">Practice is canceled tonight</textarea>"), "the text is kept")
            #expect(refused.text.contains(#"value="families" checked"#), "the group stays chosen")
            #expect(refused.text.contains("(415) 555-0199</textarea>"), "the numbers are kept")
            #expect(refused.text.contains("<nav"), "the page keeps its navigation")
            let campaigns = try await server.request(.get, "/v1/campaigns", key: org.ownerKey)
            #expect((try campaigns.object()["data"] as? [Any])?.isEmpty == true, "no campaign was made")
            #expect(try await server.pool(org)["pending"] as? Double == 0)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func contactsAreFoundAsYouTypeBeyondTheFirstHundredsAndOnlyYourOwn(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.importContacts(org, phones: (0..<600).map { "+1415555\(String(format: "%04d", $0))" })
            let other = try await server.makeOrganization("Other Office")
            let theirs = try await server.request(
                .post,
                "/v1/contacts",
                key: other.ownerKey,
                json: #"{"name": "Secret Sam", "phone": "+14155550777"}"#
            )
            let theirID = try #require(try theirs.object()["id"] as? String, "\(theirs.text)")
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let found = try await owner.send(
                .get,
                "/app/contacts?q=Parent%20599",
                body: nil,
                contentType: nil,
                extra: ["Accept": "application/json"]
            )
            let list = try WebComposeTests.array(found.text)
            #expect(list.compactMap { $0["name"] as? String } == ["Parent 599"], "\(found.text)")
            let secret = try await owner.send(
                .get,
                "/app/contacts?q=Secret",
                body: nil,
                contentType: nil,
                extra: ["Accept": "application/json"]
            )
            #expect(try WebComposeTests.array(secret.text).isEmpty, "another organisation's contacts are never found")

            // Their contact's id, slipped into a send, is not found and not named.
            let preview = try await owner.post("/compose/preview", ["body": "Hello", "contacts": theirID])
            #expect(preview.text.contains("1 contact or group not found"), "\(preview.text)")
            #expect(!preview.text.contains("Secret Sam"))
        }
    }

    @Test(arguments: stores)
    func aStaffMemberWithoutMassTextsIsRefusedByTheServer(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await WebComposeTests.families(server, org)
            let clerk = try await server.addStaff(org, role: .staff, email: "user@example.com", permissions: [])
            _ = try await server.request(
                .patch,
                "/v1/staff/\(clerk.id)",
                key: org.ownerKey,
                json: #"{"password": "user password 123"}"#
            )
            var user = try await PortalBrowser.signIn(server, email: "user@example.com", password: "user password 123")
            let refused = try await user.post("/compose/preview", ["body": "Hello", "groups": "families"])
            #expect(refused.status == .forbidden, "\(refused.text)")
            let live = try await user.send(
                .post,
                "/app/preview",
                body: "body=Hello&groups=families&_csrf=\(user.csrf)",
                contentType: "application/x-www-form-urlencoded",
                extra: ["Accept": "application/json"]
            )
            #expect(live.status == .forbidden, "\(live.text)")
            let one = try await user.post("/compose/preview", ["body": "Hello", "to": "(415) 555-0101"])
            #expect(one.status == .ok && one.text.contains("1 text will reserve 1 credit"), "\(one.text)")
            #expect(try await server.pool(org)["pending"] as? Double == 0)
        }
    }

    @Test(arguments: stores)
    func aCampaignPageListsItsRecipientsFollowsThemLiveAndHidesThemFromOthers(_ store: TestDatabase) async throws {
        try await TestServer.with(store, live: true) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await WebComposeTests.families(server, org)
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let sent = try await owner.post("/compose", ["body": "Gym closes at 5 today", "groups": "families"])
            let location = try #require(sent.headers[.location])
            let id = String(location.split(separator: "/").last ?? "")
            // The page names its rows; the stream follows those (at most a page of them) and ends
            // by itself once every text has its final status.
            let shown = try await owner.get(location)
            let shownRows = try NSRegularExpression(pattern: #"data-message="(msg_[0-9a-f]+)""#)
                .matches(in: shown.text, range: NSRange(shown.text.startIndex..., in: shown.text))
                .compactMap { Range($0.range(at: 1), in: shown.text).map { String(shown.text[$0]) } }
            #expect(shownRows.count == 3)
            let events = try await owner.send(
                .get,
                "/campaigns/\(id)/events?ids=\(shownRows.joined(separator: ","))",
                body: nil,
                contentType: nil,
                extra: ["Accept": "text/event-stream"]
            )
            #expect(events.status == .ok)
            #expect(events.headers[.contentType] == "text/event-stream")
            let updates = events.text.split(separator: "\n").filter { $0.hasPrefix("data: ") }
            let last = try #require(updates.last.map { String($0.dropFirst(6)) })
            let final = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
            #expect(final["done"] as? Bool == true, "\(events.text)")
            #expect(final["state"] as? String == "completed")
            let changed = events.text.components(separatedBy: "\"id\":\"msg_").count - 1
            #expect(changed >= 3, "each recipient's status came through the stream")
            let strangerRows = try await owner.send(
                .get,
                "/campaigns/\(id)/events?ids=msg_nothere,not-an-id",
                body: nil,
                contentType: nil,
                extra: ["Accept": "text/event-stream"]
            )
            #expect(!strangerRows.text.contains("\"id\":\"msg_"), "only this campaign's messages are followed")

            let page = try await owner.get(location)
            #expect(page.status == .ok)
            #expect(
                page.text.contains("Ana Ortiz") && page.text.contains("Ben Park")
                    && page.text.contains("Maximiliana-Josephine")
            )
            #expect(!page.text.contains("data-live="), "a finished send is not followed")
            let delivered = try await owner.get("\(location)?status=delivered")
            let failed = try await owner.get("\(location)?status=failed")
            let rows = { (text: String) in text.components(separatedBy: "<tr data-message=").count - 1 }
            #expect(
                rows(delivered.text) + rows(failed.text)
                    + rows(try await owner.get("\(location)?status=undelivered").text) == 3
            )
            #expect(rows(delivered.text) >= 1 && !delivered.text.contains("Failed (not charged)</span>"))

            _ = try await server.makeOrganization("Other Office")
            var stranger = try await PortalBrowser.signIn(
                server,
                email: "owner@otheroffice.example",
                password: "correct horse battery"
            )
            #expect(try await stranger.get(location).status == .notFound)
            #expect(try await stranger.get("/campaigns/\(id)/events").status == .notFound)
            #expect(try await server.verifyLedger() == [])
        }
    }
}
