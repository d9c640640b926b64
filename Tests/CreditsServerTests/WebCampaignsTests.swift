import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

/// The campaigns page: every send with where it stands, who sent it and its credits; a scheduled
/// one is canceled from the list, and its reserved credits come back.
@Suite struct WebCampaignsTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func aScheduledSendIsListedInWordsAndCanceledFromTheList(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550101", "+14155550102"])
            let scheduled = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Recital on Friday", "send_at": "2026-11-19T12:00:00Z"}"#
            )
            let id = try #require(try scheduled.object()["id"] as? String, "\(scheduled.text)")
            var owner = try await PortalBrowser.signIn(
                server,
                email: "owner@brightstarsgym.example",
                password: "correct horse battery"
            )
            let list = try await owner.get("/campaigns")
            #expect(list.status == .ok)
            #expect(
                list.text.contains(#"data-testid="state-\#(id)">Scheduled for 19 Nov 2026, 06:00<"#),
                "\(list.text)"
            )
            #expect(list.text.contains("Recital on Friday") && list.text.contains("Olive Owner"))
            #expect(list.text.contains(#"action="/campaigns/\#(id)/cancel""#))
            #expect(try await server.pool(org)["pending"] as? Double == 2, "two credits reserved")

            let other = try await server.makeOrganization("Other Office")
            var stranger = try await PortalBrowser.signIn(
                server,
                email: "owner@otheroffice.example",
                password: "correct horse battery"
            )
            #expect(!(try await stranger.get("/campaigns").text.contains("Recital on Friday")))
            #expect(try await stranger.post("/campaigns/\(id)/cancel", [:]).status == .notFound)
            _ = other

            let canceled = try await owner.post("/campaigns/\(id)/cancel", [:])
            #expect(canceled.status == .seeOther)
            let after = try await owner.get("/campaigns")
            #expect(after.text.contains(#"data-testid="state-\#(id)">Canceled<"#))
            #expect(!after.text.contains(#"action="/campaigns/\#(id)/cancel""#))
            #expect(try await server.pool(org)["pending"] as? Double == 0, "the reserved credits came back")
            #expect(try await server.verifyLedger() == [])
        }
    }
}
