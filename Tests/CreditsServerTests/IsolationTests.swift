import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

/// Organisation B's key tries every route on organisation A's resources: always 404, never A's data.
@Suite struct IsolationTests {
    @Test(arguments: TestDatabase.available)
    func anotherOrganisationsResourcesAreNotFound(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let a = try await server.makeOrganization("Alpha Academy", mode: .individual)
            let b = try await server.makeOrganization("Beta Bakery", mode: .individual)
            try await server.fund(a, credits: 50)
            let aStaff = try await server.addStaff(a, role: .staff)
            let aContact = try await server.request(
                .post,
                "/v1/contacts",
                key: a.ownerKey,
                json: #"{"name": "Alpha Parent", "phone": "4155552671", "consent": "opted_in"}"#
            )
            let aContactID = try #require(try aContact.object()["id"] as? String)
            let aKeyID = try #require(
                try await server.request(.get, "/v1/api-keys", key: a.ownerKey).list().first?["id"] as? String
            )
            let aPool = try #require(
                (try await server.request(.get, "/v1/credits", key: a.ownerKey).object()["pool"] as? [String: Any])?[
                    "account_id"
                ] as? String
            )
            let send = try await server.request(
                .post,
                "/v1/messages",
                key: a.ownerKey,
                json: #"{"to": ["+14155552671"], "body": "Alpha recital tonight", "override_sending_hours": true}"#
            )
            let campaignID = try #require(try send.object()["id"] as? String, "\(send.text)")
            let messageID = try #require(
                try await server.services.database.read { sql in
                    try await sql.raw("SELECT id FROM messages WHERE campaign_id = \(bind: campaignID)").first()?
                        .decode(column: "id", as: String.self)
                }
            )
            try await server.inbound(a, from: "+14155552672", "Alpha question")
            let conversationID = try #require(
                try await server.request(.get, "/v1/conversations", key: a.ownerKey).list().first?["id"] as? String
            )
            _ = try await server.request(
                .put,
                "/v1/billing/payment-method",
                key: a.ownerKey,
                json: #"{"card": {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2040}}"#
            )
            let bought = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: a.ownerKey,
                json: #"{"credits": 100}"#,
                headers: ["Idempotency-Key": "alpha-1"]
            )
            let purchaseID = try #require(try bought.object()["id"] as? String, "\(bought.text)")
            var resources = IsolationTests.resourceIDs(
                staff: aStaff.id,
                contact: aContactID,
                key: aKeyID,
                message: messageID,
                campaign: campaignID,
                conversation: conversationID
            )
            resources["/v1/invoices/"] = purchaseID
            let imported = try await server.request(
                .post,
                "/v1/contacts/import",
                key: a.ownerKey,
                json: #"{"contacts": [{"name": "Alpha Imported", "phone": "4155552699"}]}"#
            )
            resources["/v1/contacts/imports/"] = try #require(
                try imported.object()["id"] as? String,
                "\(imported.text)"
            )
            resources["/v1/numbers/"] = try #require(
                try await server.request(.get, "/v1/numbers", key: a.ownerKey).list().first?["id"] as? String
            )
            resources["/v1/media/"] = try #require(
                try await MediaTests.upload(server, a, MediaTests.png()).object()["id"] as? String
            )
            resources["/v1/groups/"] = try #require(
                try await server.request(.post, "/v1/groups", key: a.ownerKey, json: #"{"name": "Alpha group"}"#)
                    .object()["id"] as? String
            )

            try await server.fund(a, credits: 20)
            let broadcast = try await server.request(
                .post,
                "/v1/voice/broadcasts",
                key: a.ownerKey,
                json:
                    #"{"to": ["+14155552671"], "say": {"text": "Alpha recital tonight"}, "override_sending_hours": true}"#
            )
            resources["/v1/voice/broadcasts/"] = try #require(
                try broadcast.object()["id"] as? String,
                "\(broadcast.text)"
            )
            let call = try await server.request(
                .post,
                "/v1/calls",
                key: a.ownerKey,
                json: #"{"to": "+14155552671", "staff": "+14155552672"}"#
            )
            resources["/v1/calls/"] = try #require(try call.object()["id"] as? String, "\(call.text)")
            let endpoint = try await server.request(
                .post,
                "/v1/webhook-endpoints",
                key: a.ownerKey,
                json:
                    #"{"url": "https://hooks.example.com/alpha", "events": ["message.sent"], "description": "Alpha CRM"}"#
            )
            resources["/v1/webhook-endpoints/"] = try #require(
                try endpoint.object()["id"] as? String,
                "\(endpoint.text)"
            )

            let table = buildRouter(services: server.services).routes
            var tried = 0
            for route in table.routes where route.path.hasPrefix("/v1/") && route.path.contains("{") {
                let prefix = String(route.path[..<route.path.firstIndex(of: "{")!])
                let id = try #require(
                    resources[prefix],
                    "no organisation-A resource for \(route.path): add one to this test"
                )
                let path = route.path.replacingOccurrences(of: "{id}", with: id)
                let body: String? =
                    [.post, .patch, .put].contains(route.method) ? IsolationTests.bodies[route.path] ?? "{}" : nil
                let response = try await server.request(route.method, path, key: b.ownerKey, json: body)
                #expect(
                    response.status == .notFound,
                    "\(route.method) \(route.path): \(response.status) \(response.text)"
                )
                #expect(!response.text.contains("Alpha"), "\(route.method) \(route.path) leaked organisation A's data")
                tried += 1
            }
            #expect(tried >= 14)
            for query in ["wallet=\(aPool)", "wallet=\(aStaff.id)"] {
                let response = try await server.request(.get, "/v1/credits/entries?\(query)", key: b.ownerKey)
                #expect(response.status == .notFound, "\(query): \(response.text)")
            }
            let transfer = try await server.request(
                .post,
                "/v1/credits/transfers",
                key: b.ownerKey,
                json: #"{"from": "\#(aPool)", "to": "pool", "credits": 1}"#,
                headers: ["Idempotency-Key": "steal"]
            )
            #expect(transfer.status == .notFound)
            let purchase = try await server.request(
                .post,
                "/v1/credits/purchases",
                key: b.ownerKey,
                json: #"{"credits": 100, "wallet": "\#(aStaff.id)"}"#,
                headers: ["Idempotency-Key": "steal"]
            )
            #expect(purchase.status == .notFound, "\(purchase.text)")
            for path in [
                "/v1/contacts", "/v1/staff", "/v1/groups", "/v1/audit-log", "/v1/credits", "/v1/credits/entries",
                "/v1/campaigns", "/v1/conversations", "/v1/sms/setup", "/v1/billing", "/v1/credits/purchases",
                "/v1/billing/transactions", "/v1/notices", "/v1/mail", "/v1/credits/auto-renew",
            ] {
                let response = try await server.request(.get, path, key: b.ownerKey)
                #expect(response.status == .ok)
                #expect(!response.text.contains("Alpha"), "\(path) leaked organisation A's data")
            }
            let aView = try await server.request(.get, "/v1/credits", key: a.ownerKey).object()
            // 149 + 20 funded - 2 for the broadcast - 120 held for the call (60 minutes at 2).
            #expect(
                (aView["pool"] as? [String: Any])?["available"] as? Double == 47,
                "only A's own purchase, sends and the call's hold (60 minutes at 2) count"
            )
        }
    }

    /// Organisation A's resource for each id-bearing route prefix.
    static func resourceIDs(
        staff: String,
        contact: String,
        key: String,
        message: String,
        campaign: String,
        conversation: String
    ) -> [String: String] {
        [
            "/v1/staff/": staff, "/v1/contacts/": contact, "/v1/api-keys/": key, "/v1/messages/": message,
            "/v1/campaigns/": campaign, "/v1/conversations/": conversation,
        ]
    }

    /// Valid bodies, so a refusal is about ownership and not about the body.
    static let bodies: [String: String] = [
        "/v1/staff/{id}": #"{"name": "Stolen"}"#,
        "/v1/contacts/{id}": #"{"name": "Stolen"}"#,
        "/v1/contacts/{id}/consent": #"{"state": "opted_out"}"#,
        "/v1/groups/{id}": #"{"name": "Stolen"}"#,
        "/v1/conversations/{id}": #"{"status": "closed"}"#,
        "/v1/conversations/{id}/messages": #"{"body": "Stolen reply"}"#,
    ]
}
