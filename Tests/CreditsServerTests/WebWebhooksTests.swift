import CreditsCore
import CreditsServer
import CreditsServices
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// SETTINGS > Webhooks: add an endpoint (its secret shown once), read its event log, resend,
/// rotate, turn off; staff without the settings permission neither see nor use it.
@Suite struct WebWebhooksTests {
    @Test(arguments: TestDatabase.available)
    func theWebhooksPageAddsLogsResendsAndRotates(_ store: TestDatabase) async throws {
        try await TestServer.with(store, configure: WebhookTests.allowPrivate) { server in
            let org = try await server.makeOrganization()
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let empty = try await owner.get("/settings/webhooks")
            #expect(empty.status == .ok)
            #expect(empty.text.contains("No endpoints yet."))

            // Refused: what was typed comes back with the sentence, nothing is added.
            let refused = try await owner.post(
                "/settings/webhooks",
                ["url": "http://127.0.0.1:9/hook", "description": "Our CRM"]
            )
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("Choose at least one event to send (events)."))
            #expect(refused.text.contains(#"value="http://127.0.0.1:9/hook""#))
            #expect(try await server.services.stores.webhooks.endpoints(of: org.id).isEmpty)

            let added = try await owner.post(
                "/settings/webhooks",
                ["url": "http://127.0.0.1:9/hook", "description": "Our CRM"],
                repeated: [("events", "contact.opted_out"), ("events", "message.received")]
            )
            #expect(added.status == .ok)
            let secret = try #require(PortalBrowser.firstMatch(#"data-testid="secret">(whsec_[^<]+)<"#, in: added.text))
            let endpoint = try #require(try await server.services.stores.webhooks.endpoints(of: org.id).first)
            #expect(endpoint.secret == secret, "the page shows the secret the endpoint signs with")
            #expect(endpoint.eventTypes == [.contactOptedOut, .messageReceived])
            let listed = try await owner.get("/settings/webhooks")
            #expect(!listed.text.contains(secret), "the secret is shown once")

            #expect(try await server.inbound(org, from: "+14155550123", "STOP").status == .ok)
            _ = try await server.services.webhookDispatcher.runOnce()
            let page = try await owner.get("/settings/webhooks/\(endpoint.id)")
            #expect(page.status == .ok)
            #expect(page.text.contains("contact.opted_out") && page.text.contains("message.received"))
            #expect(page.text.contains("1 attempt"))
            let delivery = try #require(
                PortalBrowser.firstMatch(#"/deliveries/(whd_[0-9a-z]+)/resend"#, in: page.text)
            )
            _ = try await owner.post("/settings/webhooks/\(endpoint.id)/deliveries/\(delivery)/resend", [:])
            #expect(owner.flash == "notice:The event will be sent again in a moment, with the same id.")

            let rotated = try await owner.post("/settings/webhooks/\(endpoint.id)/rotate", ["overlap_hours": "12"])
            let newSecret = try #require(
                PortalBrowser.firstMatch(#"data-testid="secret">(whsec_[^<]+)<"#, in: rotated.text)
            )
            #expect(newSecret != secret)
            let saved = try #require(try await server.services.stores.webhooks.endpoint(endpoint.id, of: org.id))
            #expect(saved.signingSecrets(at: server.clock.now) == [newSecret, secret])

            _ = try await owner.post(
                "/settings/webhooks/\(endpoint.id)",
                ["url": "http://127.0.0.1:9/hook", "description": "Our CRM"],
                repeated: [("events", "contact.opted_out")]
            )
            #expect(owner.flash == "notice:Saved. Nothing is sent to http://127.0.0.1:9/hook.")
            let off = try #require(try await server.services.stores.webhooks.endpoint(endpoint.id, of: org.id))
            #expect(!off.enabled && off.eventTypes == [.contactOptedOut])

            // Another organisation's endpoint is not found from here.
            let other = try await server.makeOrganization("Grace Chapel")
            let theirs = try await WebhookTests.addEndpoint(
                server,
                other,
                url: "http://127.0.0.1:9/theirs",
                events: ["message.sent"]
            )
            #expect(try await owner.get("/settings/webhooks/\(theirs.id)").status == .notFound)
            _ = try await owner.post("/settings/webhooks/\(theirs.id)/delete", [:])
            #expect(try await server.services.stores.webhooks.endpoint(theirs.id, of: other.id) != nil)

            // Staff without manage_settings: no link, and the page is refused.
            var (staff, _) = try await PortalBrowser.signInNewStaff(
                server,
                org,
                email: "clerk@example.com",
                password: "clerk's long password"
            )
            let dashboard = try await staff.get("/dashboard")
            #expect(!dashboard.text.contains(#"href="/settings/webhooks""#))
            #expect(try await staff.get("/settings/webhooks").status == .forbidden)
        }
    }
}
