import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// The contacts and groups pages: an office adds, finds, edits and deletes contacts and records
/// how they agreed to be texted, without the API. Refusals keep what was typed and change nothing;
/// a recipient's STOP stays theirs; another organisation's ids are not found.
@Suite struct WebContactsTests {
    static let stores = TestDatabase.available

    func owner(_ server: TestServer, _ name: String = "Bright Stars Gym") async throws -> PortalBrowser {
        try await PortalBrowser.signIn(
            server,
            email: "owner@\(AdministrationService.accountName(name)).example",
            password: "correct horse battery"
        )
    }

    func signups(_ server: TestServer) async throws -> Int {
        try await server.services.database.read { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM messages WHERE kind = 'signup'").first().map {
                try $0.decode(column: "n", as: Int.self)
            } ?? 0
        }
    }

    func contactCount(_ server: TestServer, _ org: TestServer.Org) async throws -> Int {
        try await server.request(.get, "/v1/contacts", key: org.ownerKey).list().count
    }

    /// The contact id a redirect after adding points at.
    func addedID(_ response: TestResponse) throws -> String {
        let location = try #require(response.headers[.location])
        #expect(location.hasPrefix("/contacts/con_"), "\(location)")
        return String(location.dropFirst("/contacts/".count))
    }

    @Test(arguments: stores)
    func aContactAddedWithConsentGetsTheSignupMessageOnce(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            _ = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"signup_message": "Welcome to Bright Stars Gym texts!"}"#
            )
            var owner = try await owner(server)
            let added = try await owner.post(
                "/contacts",
                [
                    "name": "Ana Ortiz", "phone": "(415) 555-2671", "email": "ana@example.com",
                    "new_groups": "Families, Tuesday Tumbling", "consent": "opted_in",
                    "consent_basis": "signed the enrolment form",
                ],
                repeated: [
                    ("groups", ""), ("field_name", "class_name"), ("field_value", "Tumbling"), ("field_name", ""),
                    ("field_value", ""),
                ]
            )
            #expect(added.status == .seeOther, "\(added.text)")
            #expect(owner.flash == "notice:Ana Ortiz added and opted in; the signup message is on its way.")
            let id = try addedID(added)
            let page = try await owner.get("/contacts/\(id)")
            #expect(page.status == .ok)
            #expect(page.text.contains("Opted in by Olive Owner: signed the enrolment form"), "\(page.text)")
            let contact = try await server.request(.get, "/v1/contacts/\(id)", key: org.ownerKey).object()
            #expect(contact["phone"] as? String == "+14155552671", "typed the local way")
            #expect(contact["groups"] as? [String] == ["families", "tuesday tumbling"])
            #expect((contact["fields"] as? [String: String]) == ["class_name": "Tumbling"])
            #expect(try await signups(server) == 1)

            // Saying so again records the reason; the signup message is not sent twice.
            let again = try await owner.post(
                "/contacts/\(id)/consent",
                ["state": "opted_in", "basis": "said yes again"]
            )
            #expect(again.status == .seeOther)
            #expect(owner.flash == "notice:Ana Ortiz was already opted in; the reason is recorded.")
            #expect(try await signups(server) == 1)

            // Editing keeps consent; the groups and fields follow the form.
            let saved = try await owner.post(
                "/contacts/\(id)",
                ["name": "Ana Ortiz-Reyes", "phone": "415 555 2671", "email": "", "new_groups": ""],
                repeated: [
                    ("groups", ""), ("groups", "families"), ("field_name", "class_name"), ("field_value", "Vault"),
                ]
            )
            #expect(saved.status == .seeOther, "\(saved.text)")
            let edited = try await server.request(.get, "/v1/contacts/\(id)", key: org.ownerKey).object()
            #expect(edited["name"] as? String == "Ana Ortiz-Reyes" && edited["email"] == nil)
            #expect(edited["groups"] as? [String] == ["families"])
            #expect((edited["fields"] as? [String: String]) == ["class_name": "Vault"])
            #expect(edited["consent"] as? String == "opted_in")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aRefusedContactComesBackAsTypedAndNothingIsAdded(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await owner(server)
            let badPhone = try await owner.post(
                "/contacts",
                ["name": "Zed Zulu", "phone": "12", "email": "zed@example.com", "new_groups": "robotics"]
            )
            #expect(badPhone.status == .unprocessableContent)
            #expect(badPhone.text.contains(#"value="Zed Zulu""#) && badPhone.text.contains(#"value="zed@example.com""#))
            #expect(badPhone.text.contains(#"value="robotics""#))
            #expect(badPhone.text.contains("role=\"alert\""), "the reason is shown")
            #expect(badPhone.text.contains("<nav class=\"main-nav\""), "and the navigation stays")

            let noBasis = try await owner.post(
                "/contacts",
                ["name": "Yara Young", "phone": "(415) 555-0102", "consent": "opted_in"]
            )
            #expect(noBasis.status == .unprocessableContent)
            #expect(noBasis.text.contains("Say how they agreed to receive texts"))
            #expect(noBasis.text.contains(#"value="Yara Young""#))

            let badField = try await owner.post(
                "/contacts",
                ["name": "Xavi Xu", "phone": "(415) 555-0103"],
                repeated: [("field_name", "class name!"), ("field_value", "Tumbling")]
            )
            #expect(badField.status == .unprocessableContent)
            #expect(badField.text.contains(#"value="class name!""#), "the field row is kept")
            #expect(try await contactCount(server, org) == 0, "nothing was added")
            #expect(try await server.request(.get, "/v1/groups", key: org.ownerKey).list().isEmpty, "nor a group")

            _ = try await owner.post("/contacts", ["name": "Wes Wu", "phone": "(415) 555-0104"])
            let twice = try await owner.post("/contacts", ["name": "Wes Again", "phone": "+1 415 555 0104"])
            #expect(twice.status == .unprocessableContent)
            #expect(twice.text.contains("A contact with phone +14155550104 already exists."))
            #expect(try await contactCount(server, org) == 1)
        }
    }

    @Test(arguments: stores)
    func aRecipientsStopCannotBeUndoneFromTheContactPage(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await owner(server)
            let id = try addedID(
                try await owner.post(
                    "/contacts",
                    [
                        "name": "Ben Park", "phone": "(415) 555-0001", "consent": "opted_in",
                        "consent_basis": "paper form",
                    ]
                )
            )
            try await server.inbound(org, from: "+14155550001", "STOP")
            let page = try await owner.get("/contacts/\(id)")
            #expect(page.text.contains("They texted STOP. Only they can opt back in"))
            #expect(page.text.contains("Opted out by texting “STOP”"))
            #expect(
                !page.text.contains(#"<input type="hidden" name="state" value="opted_in">"#),
                "no control to undo it"
            )
            let forced = try await owner.post(
                "/contacts/\(id)/consent",
                ["state": "opted_in", "basis": "they said so"]
            )
            #expect(forced.status == .unprocessableContent)
            let contact = try await server.request(.get, "/v1/contacts/\(id)", key: org.ownerKey).object()
            #expect(contact["consent"] as? String == "opted_out")
        }
    }

    @Test(arguments: stores)
    func anotherOrganisationsContactsAndGroupsAreNotFound(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let other = try await server.makeOrganization("Other Office")
            let theirs = try await server.request(
                .post,
                "/v1/contacts",
                key: other.ownerKey,
                json: #"{"name": "Cara Diaz", "phone": "+14155550002", "groups": ["vip"]}"#
            ).object()
            let contactID = try #require(theirs["id"] as? String)
            let groupID = try #require(
                try await server.request(.get, "/v1/groups", key: other.ownerKey).list().first?["id"] as? String
            )
            _ = try await server.makeOrganization()
            var owner = try await owner(server)
            #expect(try await owner.get("/contacts/\(contactID)").status == .notFound)
            #expect(
                try await owner.post("/contacts/\(contactID)", ["name": "Mine now", "phone": "+14155550002"]).status
                    == .notFound
            )
            #expect(try await owner.post("/contacts/\(contactID)/consent", ["state": "opted_out"]).status == .notFound)
            #expect(try await owner.post("/contacts/\(contactID)/delete", [:]).status == .notFound)
            #expect(
                try await owner.post("/groups/\(groupID)", ["name": "taken", "group_id": groupID]).status == .notFound
            )
            #expect(try await owner.post("/groups/\(groupID)/delete", [:]).status == .notFound)
            let after = try await server.request(.get, "/v1/contacts/\(contactID)", key: other.ownerKey).object()
            #expect(after["name"] as? String == "Cara Diaz" && after["groups"] as? [String] == ["vip"])
            #expect(after["consent"] as? String == "pending")
            #expect(
                try await server.request(.get, "/v1/groups/\(groupID)", key: other.ownerKey).object()["name"] as? String
                    == "vip"
            )
            #expect(!(try await owner.get("/contacts").text.contains("Cara Diaz")))
        }
    }

    @Test(arguments: stores)
    func groupsAreCreatedRenamedAndDeletedAndCountWhoCanReceiveTexts(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await owner(server)
            let created = try await owner.post("/groups", ["name": "Tumbling"])
            #expect(created.status == .seeOther)
            #expect(owner.flash?.hasPrefix("notice:Group tumbling created.") == true)
            _ = try await owner.post(
                "/contacts",
                ["name": "Ana Ortiz", "phone": "(415) 555-2671", "consent": "opted_in", "consent_basis": "front desk"],
                repeated: [("groups", "tumbling")]
            )
            _ = try await owner.post(
                "/contacts",
                ["name": "Ben Park", "phone": "(415) 555-0001"],
                repeated: [("groups", "tumbling")]
            )
            let page = try await owner.get("/groups")
            #expect(page.text.contains(#"data-testid="opted-in-tumbling">1<"#), "one of two can receive texts now")
            #expect(page.text.contains("2 contacts"))
            let group = try #require(try await server.request(.get, "/v1/groups", key: org.ownerKey).list().first)
            #expect(group["contacts"] as? Int == 2 && group["opted_in"] as? Int == 1)
            let id = try #require(group["id"] as? String)

            _ = try await owner.post("/groups", ["name": "Vault"])
            let clash = try await owner.post("/groups/\(id)", ["name": "VAULT", "group_id": id])
            #expect(clash.status == .unprocessableContent)
            #expect(clash.text.contains("A group named vault already exists."))
            #expect(clash.text.contains(#"value="VAULT""#), "the typed name is kept")

            let renamed = try await owner.post("/groups/\(id)", ["name": "Tuesday Tumbling", "group_id": id])
            #expect(renamed.status == .seeOther)
            #expect(owner.flash == "notice:Group tumbling is now tuesday tumbling.")
            let members = try await owner.get("/contacts?group=tuesday%20tumbling")
            #expect(members.text.contains("Ana Ortiz") && members.text.contains("Ben Park"))

            let deleted = try await owner.post("/groups/\(id)/delete", [:])
            #expect(deleted.status == .seeOther)
            #expect(owner.flash == "notice:Group tuesday tumbling deleted; its 2 contacts were kept.")
            #expect(try await contactCount(server, org) == 2)
            let names = try await server.request(.get, "/v1/groups", key: org.ownerKey).list().compactMap {
                $0["name"] as? String
            }
            #expect(names == ["vault"])
            let audit = try await server.request(.get, "/v1/audit-log", key: org.ownerKey).list().compactMap {
                $0["action"] as? String
            }
            #expect(
                audit.contains("group.created") && audit.contains("group.renamed") && audit.contains("group.deleted")
            )
        }
    }

    @Test(arguments: stores)
    func theListFindsByNameEmailOrANumberTypedAnyWayAndPages(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let rows = (0..<60).map { index in
                [
                    "name": "Person \(index)", "phone": "+1415555\(String(format: "%04d", 1000 + index))",
                    "email": "p\(index)@example.com",
                ]
            }
            let imported = try await server.request(
                .post,
                "/v1/contacts/import",
                key: org.ownerKey,
                json: try jsonText(["contacts": rows])
            )
            #expect(imported.status == .created)
            var owner = try await owner(server)
            let first = try await owner.get("/contacts")
            #expect(first.text.components(separatedBy: "<a href=\"/contacts/con_").count - 1 == 50)
            let next = try #require(
                PortalBrowser.firstMatch(#"href="(/contacts\?cursor=[^"]+)" rel="next""#, in: first.text)
            )
            let second = try await owner.get(next)
            #expect(second.text.components(separatedBy: "<a href=\"/contacts/con_").count - 1 == 10)
            #expect(!second.text.contains("rel=\"next\""))

            let byNumber = try await owner.get("/contacts?search=\(PortalBrowser.encode("(415) 555-1042"))")
            #expect(byNumber.text.contains("Person 42") && !byNumber.text.contains("Person 41<"))
            let byEmail = try await owner.get("/contacts?search=P17%40example")
            #expect(byEmail.text.contains("Person 17<"))
            let none = try await owner.get("/contacts?search=nobody&consent=opted_in")
            #expect(none.text.contains("Nobody matches."))
        }
    }

    @Test(arguments: stores)
    func thePageSaysWhatBecameOfTheSignupMessage(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await owner(server)
            _ = try await owner.post(
                "/contacts",
                ["name": "Ana Ortiz", "phone": "(415) 555-2671", "consent": "opted_in", "consent_basis": "paper form"]
            )
            #expect(
                owner.flash
                    == "notice:Ana Ortiz added and opted in (no signup message is set in SMS settings, so none was sent)."
            )
            _ = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"signup_message": "Welcome!"}"#
            )
            _ = try await owner.post(
                "/contacts",
                ["name": "Ben Park", "phone": "(415) 555-0001", "consent": "opted_in", "consent_basis": "paper form"]
            )
            #expect(
                owner.flash?.hasPrefix("notice:Ben Park added and opted in; the signup message was not sent:") == true
            )
            #expect(try await signups(server) == 0, "no credits, no text")
        }
    }

    @Test(arguments: stores)
    func aNumberTypedTheNationalWayIsFound(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization("Harbour Realty", country: .au)
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "Mia Smith", "phone": "0412 345 678"}"#
            )
            var owner = try await owner(server, "Harbour Realty")
            let found = try await owner.get("/contacts?search=\(PortalBrowser.encode("0412 345 678"))")
            #expect(found.text.contains("Mia Smith"))
            let api = try await server.request(.get, "/v1/contacts?search=0412%20345%20678", key: org.ownerKey).list()
            #expect(api.count == 1)
        }
    }
}
