import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

/// Roles and permissions from the Staff page: shown in words, changed by those who outrank the
/// person, refused to everyone else by the server, and never across organisations.
@Suite struct WebStaffTests {
    static let stores = TestDatabase.available

    func staffMember(_ server: TestServer, _ org: TestServer.Org, _ id: String) async throws -> [String: Any] {
        try await server.request(.get, "/v1/staff/\(id)", key: org.ownerKey).object()
    }

    @Test(arguments: stores)
    func anOwnerChangesARoleAndPermissionsInWords(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let dana = try await server.addStaff(org, role: .staff, email: "dana@example.com")
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let page = try await owner.get("/staff")
            #expect(page.text.contains("Send texts to many recipients"), "permissions in words")
            #expect(!page.text.contains("send_mass_texts<"), "not in snake_case")
            #expect(page.text.contains(#"action="/staff/\#(dana.id)""#), "a control to change Dana's access")

            let promoted = try await owner.post("/staff/\(dana.id)", ["role": "billing"])
            #expect(promoted.status == .seeOther)
            #expect(
                owner.flash
                    == "notice:Sam staff is now Billing: Master user: buy system credits and move credits between the system and staff; Buy credits and manage auto-renew; Read the audit log and billing history."
            )
            #expect(try await staffMember(server, org, dana.id)["role"] as? String == "billing")

            _ = try await owner.post(
                "/staff/\(dana.id)",
                [:],
                repeated: [("permissions", ""), ("permissions", "view_logs")]
            )
            #expect(try await staffMember(server, org, dana.id)["permissions"] as? [String] == ["view_logs"])
            _ = try await owner.post("/staff/\(dana.id)", [:], repeated: [("permissions", "")])
            #expect(try await staffMember(server, org, dana.id)["permissions"] as? [String] == [])
            #expect(owner.flash == "notice:Sam staff is now Billing: no permissions.")
        }
    }

    @Test(arguments: stores)
    func noOneChangesTheAccessOfSomeoneAboveThemOrInAnotherOrganisation(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let ada = try await server.addStaff(org, role: .admin, email: "ada@example.com")
            _ = try await server.request(
                .patch,
                "/v1/staff/\(ada.id)",
                key: org.ownerKey,
                json: #"{"password": "ada's long password"}"#
            )
            let clerk = try await server.addStaff(org, role: .staff, email: "clerk@example.com")
            _ = try await server.request(
                .patch,
                "/v1/staff/\(clerk.id)",
                key: org.ownerKey,
                json: #"{"password": "clerk's long password"}"#
            )
            var admin = try await PortalBrowser.signIn(
                server,
                email: "ada@example.com",
                password: "ada's long password"
            )
            let page = try await admin.get("/staff")
            #expect(!page.text.contains(#"action="/staff/\#(org.ownerID)""#), "no control over the owner")
            _ = try await admin.post("/staff/\(org.ownerID)", ["role": "staff"])
            #expect(admin.flash?.hasPrefix("error:") == true)
            #expect(try await staffMember(server, org, org.ownerID)["role"] as? String == "owner")

            var clerkBrowser = try await PortalBrowser.signIn(
                server,
                email: "clerk@example.com",
                password: "clerk's long password"
            )
            _ = try await clerkBrowser.post("/staff/\(clerk.id)", ["role": "admin"])
            #expect(clerkBrowser.flash?.hasPrefix("error:") == true, "nobody raises themselves")
            #expect(try await staffMember(server, org, clerk.id)["role"] as? String == "staff")

            let other = try await server.makeOrganization("Other Office")
            let stranger = try await server.addStaff(other, role: .staff)
            let across = try await admin.post("/staff/\(stranger.id)", ["role": "admin"])
            #expect(across.status == .notFound)
            #expect(
                try await server.request(.get, "/v1/staff/\(stranger.id)", key: other.ownerKey).object()["role"]
                    as? String == "staff"
            )
        }
    }

    @Test(arguments: stores)
    func aNewOrganisationIsAskedToBuyItsFirstCreditsNotToldTheyAreUsedUp(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let fresh = try await owner.get("/dashboard")
            #expect(fresh.text.contains("Buy your first SMS credits to start texting"))
            #expect(!fresh.text.contains("used up"))
            let codes = try await server.request(.get, "/v1/notices", key: org.ownerKey).list().map {
                $0["code"] as? String
            }
            #expect(codes == ["no_credits_yet"])

            // Once credits came and went, the balance is used up.
            try await server.fund(org, credits: 1)
            _ = try await server.services.credits.adjust(
                org.id,
                credits: Credits(credits: -1),
                reason: "test: all spent",
                actor: .system
            )
            let spent = try await server.request(.get, "/v1/notices", key: org.ownerKey).list().map {
                $0["code"] as? String
            }
            #expect(spent == ["out_of_credits"])
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func keywordRepliesAreEditedOnTheSettingsPageAndAnsweredWithTheOrganisationsName(_ store: TestDatabase)
        async throws
    {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let page = try await owner.get("/settings/sms")
            #expect(page.text.contains("becomes “Bright Stars Gym”"))
            #expect(!page.text.contains("iclasspro"), "no other company's portal in the default replies")

            let blank = try await owner.post("/settings/sms", ["help_reply": "  "])
            #expect(blank.status == .seeOther)
            #expect(
                owner.flash == "error:The reply to HELP cannot be empty: carriers require an answer to this keyword."
            )
            let saved = try await owner.post(
                "/settings/sms",
                ["help_reply": "{{account}}: call the front desk at (415) 555-0100. Reply STOP to opt out."]
            )
            #expect(saved.status == .seeOther && owner.flash == "notice:SMS settings saved.")
            let settings =
                try await server.request(.get, "/v1/organization", key: org.ownerKey).object()["sms_settings"]
                as? [String: Any]
            #expect(settings?["header"] as? String == "", "a form of replies leaves the header alone")
            try await server.inbound(org, from: "+14155550177", "help")
            let reply = try await server.services.database.read { sql in
                try await sql.raw("SELECT body FROM messages WHERE kind = 'keyword_reply'").first()?
                    .decode(column: "body", as: String.self)
            }
            #expect(reply == "Bright Stars Gym: call the front desk at (415) 555-0100. Reply STOP to opt out.")
        }
    }

    @Test(arguments: stores)
    func aNarrowedAdminCannotGiveARolesDefaultsTheyLackNorWidenThemselves(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let ada = try await server.addStaff(
                org,
                role: .admin,
                email: "ada@example.com",
                permissions: [.manageSettings]
            )
            let clerk = try await server.addStaff(org, role: .staff)
            // A new role without a list gives that role's defaults: buying credits, which Ada lacks.
            let promote = try await server.request(
                .patch,
                "/v1/staff/\(clerk.id)",
                key: ada.key,
                json: #"{"role": "billing"}"#
            )
            #expect(promote.status == .forbidden, "\(promote.text)")
            #expect(try await staffMember(server, org, clerk.id)["role"] as? String == "staff")
            let herself = try await server.request(
                .patch,
                "/v1/staff/\(ada.id)",
                key: ada.key,
                json: #"{"role": "admin"}"#
            )
            #expect(herself.status == .forbidden && herself.text.contains("your own role"))
            #expect(try await staffMember(server, org, ada.id)["permissions"] as? [String] == ["manage_settings"])
            let added = try await server.request(
                .post,
                "/v1/staff",
                key: ada.key,
                json: #"{"name": "New Admin", "email": "new@example.com", "role": "admin"}"#
            )
            #expect(added.status == .forbidden, "nor add someone with more than she has")
        }
    }
}
