import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import TestSupport
import Testing

/// Outbound webhooks (Standard Webhooks): every delivery is checked by the PyPI `standardwebhooks`
/// library in a local receiver, not by our own code.
@Suite(.serialized)
struct WebhookTests {
    static let stores = TestDatabase.available
    static let receiverAvailable = SMTPTestServer.isAvailable

    static func allowPrivate(_ configuration: inout AppConfiguration) { configuration.webhooksAllowPrivate = true }

    /// Adds an endpoint through the API; returns its id and secret.
    static func addEndpoint(_ server: TestServer, _ org: TestServer.Org, url: String, events: [String]) async throws
        -> (id: String, secret: String)
    {
        let response = try await server.request(
            .post,
            "/v1/webhook-endpoints",
            key: org.ownerKey,
            json: try jsonText(["url": url, "events": events])
        )
        #expect(response.status == .created, "\(response.text)")
        let object = try response.object()
        return (try #require(object["id"] as? String), try #require(object["secret"] as? String))
    }

    /// Sends one text to an opted-in number and lets the Simulator's reports settle it.
    static func sendAndDeliver(_ server: TestServer, _ org: TestServer.Org, to phone: String) async throws -> String {
        let sent = try await server.request(
            .post,
            "/v1/messages",
            key: org.ownerKey,
            json: try jsonText(["to": [phone], "body": "Class is canceled today"])
        )
        #expect(sent.status == .created, "\(sent.text)")
        let campaign = try #require(try sent.object()["id"] as? String)
        #expect(try await server.services.dispatcher.runOnce() == 1)
        let row = try #require(
            try await server.services.database.read { sql in
                try await sql.raw("SELECT id, provider_id FROM messages WHERE campaign_id = \(bind: campaign)").first()
            }
        )
        let id = try row.decode(column: "id", as: String.self)
        let sid = try row.decode(column: "provider_id", as: String.self)
        let report = try await server.callback(
            "/webhooks/simulator/status?message=\(id)",
            ["MessageSid": sid, "MessageStatus": "delivered", "NumSegments": "1"]
        )
        #expect(report.status == .noContent)
        return campaign
    }

    @Test(
        .enabled(
            if: WebhookTests.receiverAvailable,
            "needs Python with standardwebhooks (TEXTCREDITS_TEST_SMTP_PYTHON)"
        ),
        arguments: stores
    )
    func anEventReachesEachEndpointThatWantsItOnceAndVerifies(_ store: TestDatabase) async throws {
        let receiver = try await WebhookTestReceiver.start()
        try await TestServer.with(store, configure: Self.allowPrivate) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123"])
            let all = try await Self.addEndpoint(
                server,
                org,
                url: receiver.url("all"),
                events: [
                    "message.sent", "message.delivered", "campaign.completed", "message.received", "contact.opted_out",
                ]
            )
            let optOuts = try await Self.addEndpoint(
                server,
                org,
                url: receiver.url("optouts"),
                events: ["contact.opted_out"]
            )
            let calls = try await Self.addEndpoint(server, org, url: receiver.url("calls"), events: ["call.completed"])
            try receiver.setSecrets(["all": [all.secret], "optouts": [optOuts.secret], "calls": [calls.secret]])

            let campaign = try await Self.sendAndDeliver(server, org, to: "+14155550123")
            #expect(try await server.inbound(org, from: "+14155550123", "STOP").status == .ok)
            while try await server.services.webhookDispatcher.runOnce() > 0 {}

            let received = try receiver.requests()
            let byEndpoint = Dictionary(grouping: received, by: \.name)
            #expect(
                (byEndpoint["all"] ?? []).compactMap(\.type).sorted() == [
                    "campaign.completed", "contact.opted_out", "message.delivered", "message.received", "message.sent",
                ]
            )
            #expect((byEndpoint["optouts"] ?? []).compactMap(\.type) == ["contact.opted_out"])
            #expect(byEndpoint["calls"] == nil, "an endpoint gets only the events it asked for")
            #expect(received.allSatisfy { $0.verified == [true] }, "standardwebhooks verifies every signature")
            #expect(Set(received.map(\.id)).count == received.count - 1, "one event to two endpoints keeps its id")
            let completed = try #require((byEndpoint["all"] ?? []).first { $0.type == "campaign.completed" })
            let body = try #require(try JSONSerialization.jsonObject(with: Data(completed.body.utf8)) as? [String: Any])
            let data = try #require(body["data"] as? [String: Any])
            #expect(data["id"] as? String == campaign)
            #expect((data["counts"] as? [String: Int]) == ["delivered": 1])
            let optOut = try #require((byEndpoint["optouts"] ?? []).first)
            let optOutData = try #require(
                (try JSONSerialization.jsonObject(with: Data(optOut.body.utf8)) as? [String: Any])?["data"]
                    as? [String: Any]
            )
            #expect(optOutData["phone"] as? String == "+14155550123")
            #expect(optOutData["by_recipient"] as? Bool == true)

            // Nothing is sent twice: the log shows each delivery delivered after one try.
            let log = try await server.request(.get, "/v1/webhook-endpoints/\(all.id)/deliveries", key: org.ownerKey)
                .list()
            #expect(log.count == 5)
            #expect(log.allSatisfy { $0["status"] as? String == "delivered" && $0["attempts"] as? Int == 1 })
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aChangeThatRollsBackTellsNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store, configure: Self.allowPrivate) { server in
            let org = try await server.makeOrganization()
            _ = try await Self.addEndpoint(server, org, url: "http://127.0.0.1:9/hook", events: ["contact.opted_out"])
            struct Abandoned: Error {}
            let instant = server.clock.now
            await #expect(throws: Abandoned.self) {
                try await server.services.database.unitOfWork { work in
                    try await ContactStore.recordConsent(
                        organization: org.id,
                        phone: "+14155550123",
                        state: .optedOut,
                        source: .api,
                        rawText: nil,
                        actor: "test",
                        at: instant,
                        in: work
                    )
                    throw Abandoned()
                }
            }
            func counts() async throws -> (Int, Int) {
                try await server.services.database.read { sql in
                    let events =
                        try await sql.raw("SELECT COUNT(*) AS n FROM webhook_events").first()?
                        .decode(column: "n", as: Int.self) ?? -1
                    let deliveries =
                        try await sql.raw("SELECT COUNT(*) AS n FROM webhook_deliveries").first()?
                        .decode(column: "n", as: Int.self) ?? -1
                    return (events, deliveries)
                }
            }
            #expect(try await counts() == (0, 0), "a rolled-back change leaves no event")
            try await server.services.database.unitOfWork { work in
                try await ContactStore.recordConsent(
                    organization: org.id,
                    phone: "+14155550123",
                    state: .optedOut,
                    source: .api,
                    rawText: nil,
                    actor: "test",
                    at: instant,
                    in: work
                )
            }
            #expect(try await counts() == (1, 1), "the same change committed leaves one")
        }
    }

    @Test(
        .enabled(
            if: WebhookTests.receiverAvailable,
            "needs Python with standardwebhooks (TEXTCREDITS_TEST_SMTP_PYTHON)"
        ),
        arguments: stores
    )
    func anEndpointThatFailsThreeTimesGetsTheEventOnTheFourthTryWithTheSameID(_ store: TestDatabase) async throws {
        let receiver = try await WebhookTestReceiver.start()
        try await TestServer.with(store, configure: Self.allowPrivate) { server in
            let org = try await server.makeOrganization()
            let flaky = try await Self.addEndpoint(
                server,
                org,
                url: receiver.url("flaky", statuses: [500, 500, 500]),
                events: ["contact.opted_out"]
            )
            try receiver.setSecrets(["flaky": [flaky.secret]])
            #expect(try await server.inbound(org, from: "+14155550123", "STOP").status == .ok)
            var tries = 0
            while tries < 10, try receiver.requests().last?.status != 200 {
                tries += try await server.services.webhookDispatcher.runOnce()
                server.clock.advance(120)  // past the next try (5 s, 10 s, 20 s … with jitter)
            }
            let received = try receiver.requests()
            #expect(received.map(\.status) == [500, 500, 500, 200])
            #expect(Set(received.map(\.id)).count == 1, "every try carries the same webhook-id")
            #expect(received.allSatisfy { $0.verified == [true] })
            let log = try await server.request(.get, "/v1/webhook-endpoints/\(flaky.id)/deliveries", key: org.ownerKey)
                .list()
            let delivery = try #require(log.first)
            #expect(delivery["status"] as? String == "delivered")
            #expect(delivery["attempts"] as? Int == 4)
            #expect(
                ((delivery["tries"] as? [[String: Any]]) ?? []).compactMap { $0["status_code"] as? Int } == [
                    500, 500, 500, 200,
                ]
            )
            let endpoint = try await server.request(.get, "/v1/webhook-endpoints/\(flaky.id)", key: org.ownerKey)
                .object()
            #expect(endpoint["consecutive_failures"] as? Int == 0, "a success ends the run of failures")

            // Resend: the same event again, on demand, with the same id.
            let deliveryID = try #require(delivery["id"] as? String)
            let resent = try await server.request(
                .post,
                "/v1/webhook-endpoints/\(flaky.id)/deliveries/\(deliveryID)/resend",
                key: org.ownerKey
            )
            #expect(resent.status == .accepted)
            #expect(try await server.services.webhookDispatcher.runOnce() == 1)
            let again = try receiver.requests()
            #expect(again.count == 5)
            #expect(again.last?.id == received.first?.id)
        }
    }

    @Test(
        .enabled(
            if: WebhookTests.receiverAvailable,
            "needs Python with standardwebhooks (TEXTCREDITS_TEST_SMTP_PYTHON)"
        ),
        arguments: stores
    )
    func aRotatedSecretKeepsBothValidDuringTheOverlap(_ store: TestDatabase) async throws {
        let receiver = try await WebhookTestReceiver.start()
        try await TestServer.with(store, configure: Self.allowPrivate) { server in
            let org = try await server.makeOrganization()
            let endpoint = try await Self.addEndpoint(
                server,
                org,
                url: receiver.url("rotating"),
                events: ["contact.opted_out"]
            )
            let rotated = try await server.request(
                .post,
                "/v1/webhook-endpoints/\(endpoint.id)/rotate-secret",
                key: org.ownerKey,
                json: #"{"overlap_hours": 24}"#
            )
            #expect(rotated.status == .ok, "\(rotated.text)")
            let newSecret = try #require(try rotated.object()["secret"] as? String)
            #expect(newSecret != endpoint.secret && newSecret.hasPrefix("whsec_"))
            #expect(try rotated.object()["previous_secret_expires_at"] as? String != nil)
            try receiver.setSecrets(["rotating": [newSecret, endpoint.secret]])

            #expect(try await server.inbound(org, from: "+14155550123", "STOP").status == .ok)
            #expect(try await server.services.webhookDispatcher.runOnce() == 1)
            #expect(try receiver.requests().last?.verified == [true, true], "both secrets verify during the overlap")
            #expect(try receiver.requests().last?.signature.split(separator: " ").count == 2)

            server.clock.advance(25 * 3600)
            #expect(try await server.inbound(org, from: "+14155550124", "STOP").status == .ok)
            #expect(try await server.services.webhookDispatcher.runOnce() == 1)
            #expect(try receiver.requests().last?.verified == [true, false], "after the overlap only the new one")
            let listed = try await server.request(.get, "/v1/webhook-endpoints", key: org.ownerKey).list()
            #expect(listed.count == 1)
            #expect(listed.first?["secret"] == nil, "a secret is shown once, when it is made")
        }
    }

    @Test(
        .enabled(
            if: WebhookTests.receiverAvailable,
            "needs Python with standardwebhooks (TEXTCREDITS_TEST_SMTP_PYTHON)"
        ),
        arguments: stores
    )
    func anEndpointThatFailsForTwoDaysIsTurnedOffAndTheOwnerTold(_ store: TestDatabase) async throws {
        let receiver = try await WebhookTestReceiver.start()
        try await TestServer.with(store, configure: Self.allowPrivate) { server in
            let org = try await server.makeOrganization()
            // It answers 503 to every try.
            let dead = try await Self.addEndpoint(
                server,
                org,
                url: receiver.url("down", statuses: Array(repeating: 503, count: 100)),
                events: ["contact.opted_out"]
            )
            #expect(try await server.inbound(org, from: "+14155550123", "STOP").status == .ok)
            var rounds = 0
            while rounds < 40 {
                _ = try await server.services.webhookDispatcher.runOnce()
                let endpoint = try await server.request(.get, "/v1/webhook-endpoints/\(dead.id)", key: org.ownerKey)
                    .object()
                if endpoint["enabled"] as? Bool == false { break }
                server.clock.advance(2 * 3600)
                rounds += 1
            }
            let endpoint = try await server.request(.get, "/v1/webhook-endpoints/\(dead.id)", key: org.ownerKey)
                .object()
            #expect(endpoint["enabled"] as? Bool == false)
            #expect((endpoint["disabled_reason"] as? String)?.contains("Every delivery failed for 2 days") == true)
            #expect((endpoint["consecutive_failures"] as? Int ?? 0) >= WebhookRetry.failuresToDisable)
            let mail = try await server.request(.get, "/v1/mail", key: org.ownerKey).list()
            #expect(mail.contains { $0["subject"] as? String == "A webhook endpoint was turned off" })
            let log = try await server.request(.get, "/v1/webhook-endpoints/\(dead.id)/deliveries", key: org.ownerKey)
                .list()
            let tries = (log.first?["tries"] as? [[String: Any]]) ?? []
            #expect(
                !tries.isEmpty && tries.allSatisfy { $0["status_code"] as? Int == 503 }
            )
            let resendWhileOff = try await server.request(
                .post,
                "/v1/webhook-endpoints/\(dead.id)/deliveries/\(try #require(log.first?["id"] as? String))/resend",
                key: org.ownerKey
            )
            #expect(resendWhileOff.status == .conflict)
            #expect(resendWhileOff.errorCode == "endpoint_off")
            // While it is off, nothing new is written for it; turned on again, it starts afresh.
            #expect(try await server.inbound(org, from: "+14155550124", "STOP").status == .ok)
            #expect(
                try await server.request(.get, "/v1/webhook-endpoints/\(dead.id)/deliveries", key: org.ownerKey).list()
                    .count == 1
            )
            let on = try await server.request(
                .patch,
                "/v1/webhook-endpoints/\(dead.id)",
                key: org.ownerKey,
                json: #"{"enabled": true}"#
            ).object()
            #expect(on["enabled"] as? Bool == true)
            #expect(on["consecutive_failures"] as? Int == 0)
        }
    }

    @Test(arguments: stores)
    func anUnreachableEndpointCostsOneTryAPassNotOneTryPerEvent(_ store: TestDatabase) async throws {
        try await TestServer.with(store, configure: Self.allowPrivate) { server in
            let org = try await server.makeOrganization()
            // Port 9 (discard) has nobody listening here: the connection is refused.
            let dead = try await Self.addEndpoint(
                server,
                org,
                url: "http://127.0.0.1:9/hook",
                events: ["contact.opted_out"]
            )
            for phone in ["+14155550123", "+14155550124", "+14155550125"] {
                #expect(try await server.inbound(org, from: phone, "STOP").status == .ok)
            }
            #expect(try await server.services.webhookDispatcher.runOnce() == 3)
            let log = try await server.request(.get, "/v1/webhook-endpoints/\(dead.id)/deliveries", key: org.ownerKey)
                .list()
            #expect(log.count == 3)
            #expect(
                log.compactMap { $0["attempts"] as? Int }.sorted() == [0, 0, 1],
                "the others wait for the next try"
            )
            #expect(log.allSatisfy { $0["status"] as? String == "pending" && $0["next_attempt_at"] is String })
            let tried = try #require(log.first { $0["attempts"] as? Int == 1 })
            let error = ((tried["tries"] as? [[String: Any]])?.first?["error"] as? String) ?? ""
            #expect(error.hasPrefix("The endpoint"), "\(error)")
            #expect(try await server.services.webhookDispatcher.runOnce() == 0, "nothing is due before the next try")
            #expect(try await server.inbound(org, from: "+14155550126", "STOP").status == .ok)
            #expect(
                try await server.services.webhookDispatcher.runOnce() == 0,
                "a new event waits too: the endpoint is paused until its next try"
            )
            server.clock.advance(60)
            #expect(try await server.services.webhookDispatcher.runOnce() == 4, "then all four are claimed again")
        }
    }

    @Test(arguments: stores)
    func creditsLowAndExhaustedAreToldOncePerCrossing(_ store: TestDatabase) async throws {
        try await TestServer.with(store, configure: Self.allowPrivate) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 101)
            try await server.importContacts(org, phones: ["+14155550123", "+14155550124"])
            let endpoint = try await Self.addEndpoint(
                server,
                org,
                url: "http://127.0.0.1:9/hook",
                events: ["credits.low", "credits.exhausted"]
            )
            func told() async throws -> [String] {
                try await server.request(.get, "/v1/webhook-endpoints/\(endpoint.id)/deliveries", key: org.ownerKey)
                    .list().compactMap { $0["type"] as? String }
            }
            for _ in 0..<2 {
                let sent = try await server.request(
                    .post,
                    "/v1/messages",
                    key: org.ownerKey,
                    json: #"{"to": ["+14155550123"], "body": "Hello"}"#
                )
                #expect(sent.status == .created, "\(sent.text)")
            }
            #expect(try await told() == ["credits.low"], "101 → 100 is not low; 99 is, told once")
            let pool = try await server.pool(org)
            let available = try #require(pool["available"] as? Double)
            _ = try await server.services.credits.adjust(
                org.id,
                credits: Credits(credits: -Int64(available)),
                reason: "spent elsewhere",
                actor: .system
            )
            #expect(try await told() == ["credits.exhausted", "credits.low"])
            let payload =
                try await server.request(.get, "/v1/webhook-endpoints/\(endpoint.id)/deliveries", key: org.ownerKey)
                .list().first?["payload"] as? String ?? ""
            #expect(
                payload.contains(#""type":"credits.exhausted""#) && payload.contains(#""available":0"#),
                "\(payload)"
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func purchasesCallsAndVoicemailsAreToldToo(_ store: TestDatabase) async throws {
        try await TestServer.with(store, configure: Self.allowPrivate) { server in
            let org = try await server.makeOrganization()
            let endpoint = try await Self.addEndpoint(
                server,
                org,
                url: "http://127.0.0.1:9/hook",
                events: ["purchase.succeeded", "purchase.failed", "call.completed", "voicemail.received"]
            )
            func told() async throws -> [String] {
                try await server.request(.get, "/v1/webhook-endpoints/\(endpoint.id)/deliveries", key: org.ownerKey)
                    .list().compactMap { $0["type"] as? String }.sorted()
            }
            try await BillingTests.putCard(server, org, "4242424242424242")
            #expect(try await BillingTests.buy(server, org, credits: 500, key: "buy-1").status == .created)
            try await BillingTests.putCard(server, org, "4000000000000002")
            #expect(try await BillingTests.buy(server, org, credits: 500, key: "buy-2").status.code == 402)
            #expect(try await told() == ["purchase.failed", "purchase.succeeded"])

            let number = try await server.services.sendingNumbers.sendingNumber(org.id)
            try await VoiceTests.forward(server, org, #"{"enabled": false}"#)
            let simulator = try #require(server.services.simulator)
            _ = try await simulator.receiveCall(
                from: "+14155559876",
                to: number,
                base: server.services.baseURL,
                web: VoiceTests.RouterPoster(server: server)
            )
            #expect(
                try await told() == ["call.completed", "purchase.failed", "purchase.succeeded", "voicemail.received"]
            )
            let payloads = try await server.request(
                .get,
                "/v1/webhook-endpoints/\(endpoint.id)/deliveries",
                key: org.ownerKey
            ).list().compactMap { $0["payload"] as? String }
            #expect(
                payloads.contains {
                    $0.contains(#""type":"voicemail.received""#) && $0.contains(#""from":"+14155559876""#)
                        && $0.contains(#""to":"\#(number)""#)
                },
                "\(payloads)"
            )
            #expect(
                payloads.contains {
                    $0.contains(#""type":"call.completed""#) && $0.contains(#""direction":"inbound""#)
                        && $0.contains(#""from":"+14155559876""#)
                }
            )
            #expect(
                payloads.contains { $0.contains(#""type":"purchase.succeeded""#) && $0.contains(#""credits":500"#) }
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func anotherOrganisationsEndpointsAndEventsAreNotFound(_ store: TestDatabase) async throws {
        try await TestServer.with(store, configure: Self.allowPrivate) { server in
            let a = try await server.makeOrganization("Bright Stars Gym")
            let b = try await server.makeOrganization("Grace Chapel")
            let endpoint = try await Self.addEndpoint(
                server,
                a,
                url: "http://127.0.0.1:9/hook",
                events: ["contact.opted_out"]
            )
            #expect(try await server.inbound(a, from: "+14155550123", "STOP").status == .ok)
            let delivery = try #require(
                try await server.request(.get, "/v1/webhook-endpoints/\(endpoint.id)/deliveries", key: a.ownerKey)
                    .list().first?["id"] as? String
            )
            let attempts: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/webhook-endpoints/\(endpoint.id)", nil),
                (.patch, "/v1/webhook-endpoints/\(endpoint.id)", #"{"enabled": false}"#),
                (.delete, "/v1/webhook-endpoints/\(endpoint.id)", nil),
                (.post, "/v1/webhook-endpoints/\(endpoint.id)/rotate-secret", "{}"),
                (.get, "/v1/webhook-endpoints/\(endpoint.id)/deliveries", nil),
                (.post, "/v1/webhook-endpoints/\(endpoint.id)/deliveries/\(delivery)/resend", nil),
            ]
            for (method, path, body) in attempts {
                let response = try await server.request(method, path, key: b.ownerKey, json: body)
                #expect(response.status == .notFound, "\(method) \(path): \(response.text)")
            }
            #expect(try await server.request(.get, "/v1/webhook-endpoints", key: b.ownerKey).list().isEmpty)
            let still = try await server.request(.get, "/v1/webhook-endpoints/\(endpoint.id)", key: a.ownerKey).object()
            #expect(still["enabled"] as? Bool == true, "nothing another organisation tried changed it")
            // B's own events never reach A's endpoint.
            #expect(try await server.inbound(b, from: "+14155550199", "STOP").status == .ok)
            #expect(
                try await server.request(.get, "/v1/webhook-endpoints/\(endpoint.id)/deliveries", key: a.ownerKey)
                    .list().count == 1
            )
        }
    }

    @Test(arguments: stores)
    func endpointsAreCheckedAndNeedTheSettingsPermission(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            func add(_ body: String) async throws -> (Int, [String: Any]) {
                let response = try await server.request(.post, "/v1/webhook-endpoints", key: org.ownerKey, json: body)
                return (Int(response.status.code), (try? response.object()["error"] as? [String: Any]) ?? [:])
            }
            let cases: [(String, String)] = [
                (#"{"url": "http://example.com/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://127.0.0.1/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://10.1.2.3/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://[::1]/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://localhost/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://localhost./hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://[::ffff:7f00:1]/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://[0:0:0:0:0:0:0:1]/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://[::127.0.0.1]/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://[fec0::1]/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://[64:ff9b::a00:1]/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://2130706433/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://0177.0.0.1/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://0x7f.0.0.1/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://[::ffff:10.0.0.1]/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://169.254.169.254/latest/meta-data", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "ftp://example.com/hook", "events": ["message.sent"]}"#, "url_invalid"),
                (#"{"url": "https://example.com/hook", "events": []}"#, "events_required"),
                (#"{"url": "https://example.com/hook", "events": ["message.exploded"]}"#, "event_unknown"),
                (#"{"events": ["message.sent"]}"#, "url_required"),
            ]
            for (body, code) in cases {
                let (status, error) = try await add(body)
                #expect(status == 422, "\(body)")
                #expect(error["code"] as? String == code, "\(body): \(error)")
            }
            #expect(
                try await add(#"{"url": "https://10.1.2.3/hook", "events": ["message.sent"]}"#).1["message"] as? String
                    == "10.1.2.3 is a private or local address; events can only be sent to an address on the internet."
            )
            let ok = try await add(#"{"url": "https://hooks.example.com/textcredits", "events": ["message.sent"]}"#)
            #expect(ok.0 == 201)
            #expect(
                try await server.request(
                    .post,
                    "/v1/webhook-endpoints/whe_nothere/rotate-secret",
                    key: org.ownerKey,
                    json: #"{"overlap_hours": 500}"#
                ).status == .notFound
            )
            // Staff without the settings permission are refused.
            let key = try await server.addStaff(org, role: .staff).key
            let refused = try await server.request(.get, "/v1/webhook-endpoints", key: key)
            #expect(refused.status == .forbidden)
        }
    }
}
