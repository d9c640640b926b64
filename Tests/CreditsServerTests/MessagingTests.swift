import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

@Suite struct MessagingTests {
    static let stores = TestDatabase.available

    /// 1,000 recipients: a tenth end failed (…0001), a tenth undelivered (…0002), the rest delivered.
    static func phones(_ count: Int) -> [String] {
        (0..<count).map { index in
            let exchange = 200 + index / 10
            let line = index % 10 == 0 ? "0001" : (index % 10 == 1 ? "0002" : String(format: "%04d", 1000 + index % 10))
            return "+1415\(exchange)\(line)"
        }
    }

    @Test(arguments: stores)
    func aThousandRecipientSendSettlesToExactlyTheExpectedCharge(_ store: TestDatabase) async throws {
        try await TestServer.with(store, live: true) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 5000)
            try await server.importContacts(org, phones: MessagingTests.phones(1000))
            // {{first_name}} is P0…P999, so bodies differ; one in ten is padded to two segments.
            let body =
                "Hi {{first_name}}, practice moves to 5pm on Thursday. "
                + String(repeating: "Details follow. ", count: 6)
            let response = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: try jsonText(["groups": ["families"], "body": body])
            )
            #expect(response.status == .created, "\(response.text)")
            let campaign = try response.object()
            let id = try #require(campaign["id"] as? String)
            #expect(campaign["accepted"] as? Int == 1000)
            let reserved = try #require(campaign["credits_reserved"] as? Double)
            let settled = try await server.eventually(60) {
                let counts =
                    try await server.request(.get, "/v1/campaigns/\(id)", key: org.ownerKey).object()["counts"]
                    as? [String: Int] ?? [:]
                let final = (counts["delivered"] ?? 0) + (counts["undelivered"] ?? 0) + (counts["failed"] ?? 0) == 1000
                guard final else { return false }
                return try await server.pool(org)["pending"] as? Double == 0
            }
            #expect(settled, "every message reached a final status and every hold settled")
            let final = try await server.request(.get, "/v1/campaigns/\(id)", key: org.ownerKey).object()
            #expect(final["counts"] as? [String: Int] == ["delivered": 800, "undelivered": 100, "failed": 100])
            #expect(final["status"] as? String == "completed")
            // Every message costs the same number of segments here: the failed tenth is released.
            let perMessage = reserved / 1000
            #expect(final["credits_posted"] as? Double == perMessage * 900)
            #expect(final["credits_released"] as? Double == perMessage * 100)
            let pool = try await server.pool(org)
            #expect(pool["posted"] as? Double == 5000 - perMessage * 900)
            #expect(pool["pending"] as? Double == 0)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func repeatedAndOutOfOrderCallbacksChangeNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123"])
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hello"}"#
            )
            let campaignID = try #require(try sent.object()["id"] as? String)
            #expect(try await server.services.dispatcher.runOnce() == 1)
            let message = try #require(
                try await server.services.database.read { sql in
                    try await sql.raw("SELECT id, provider_id FROM messages WHERE campaign_id = \(bind: campaignID)")
                        .first()
                }
            )
            let messageID: String = try message.decode(column: "id", as: String.self)
            let sid: String = try message.decode(column: "provider_id", as: String.self)
            let path = "/webhooks/simulator/status?message=\(messageID)"
            let delivered = ["MessageSid": sid, "MessageStatus": "delivered", "NumSegments": "1"]

            let forged = try await server.callback(path, delivered, signed: false)
            #expect(forged.status == .forbidden, "an unsigned callback changes nothing")
            #expect(try await server.pool(org)["pending"] as? Double == 1)

            for _ in 0..<3 { #expect(try await server.callback(path, delivered).status == .noContent) }
            for late in ["sent", "queued", "failed", "undelivered"] {
                try await server.callback(path, ["MessageSid": sid, "MessageStatus": late])
            }
            let view = try await server.request(.get, "/v1/messages/\(messageID)", key: org.ownerKey).object()
            #expect(view["status"] as? String == "delivered")
            #expect(view["charged"] as? Double == 1)
            let history = (view["history"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
            #expect(history == ["queued", "sent", "delivered"])
            let pool = try await server.pool(org)
            #expect(pool["posted"] as? Double == 9)
            #expect(pool["pending"] as? Double == 0)
            let deliveredEntries = try await server.request(
                .get,
                "/v1/audit-log?action=sms.delivered",
                key: org.ownerKey
            ).list()
            #expect(
                deliveredEntries.compactMap { $0["message"] as? String } == [
                    "SMS message delivered to +14155550123. 1 credit used. 9 remaining."
                ]
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func holdsPastTheirTimeoutArePostedWhenSentAndReleasedWhenNeverSent(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123", "+14155550124"])
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Hello"}"#
            )
            let campaignID = try #require(try sent.object()["id"] as? String)
            // One message reaches the provider (no callback comes: the Simulator's service is not
            // running), the other is never dispatched.
            #expect(try await server.services.dispatcher.runOnce(limit: 1) == 1)
            server.clock.advance(server.services.configuration.holdTimeout + 60)
            #expect(try await server.services.settlement.timeOutHolds() == 2)
            let campaign = try await server.request(.get, "/v1/campaigns/\(campaignID)", key: org.ownerKey).object()
            #expect(campaign["counts"] as? [String: Int] == ["sent": 1, "failed": 1])
            #expect(campaign["credits_posted"] as? Double == 1)
            #expect(campaign["credits_released"] as? Double == 1)
            let pool = try await server.pool(org)
            #expect(pool["posted"] as? Double == 9)
            #expect(pool["pending"] as? Double == 0)
            let log = try await server.request(.get, "/v1/audit-log", key: org.ownerKey).list().compactMap {
                $0["message"] as? String
            }
            // "remaining" is the available balance after it: 8 or 9, by which hold timed out first.
            #expect(log.contains { $0.contains("had no delivery report in time. 1 credit used.") }, "\(log)")
            #expect(
                log.contains { $0.hasSuffix("failed (expired: not sent before the hold timeout). No credits used.") }
            )
            #expect(try await server.services.settlement.timeOutHolds() == 0, "each hold times out once")

            // A late report still moves the message on, but charges nothing more.
            let message = try #require(
                try await server.services.database.read { sql in
                    try await sql.raw(
                        "SELECT id, provider_id FROM messages WHERE campaign_id = \(bind: campaignID) AND status = 'sent'"
                    ).first()
                }
            )
            let messageID = try message.decode(column: "id", as: String.self)
            let late = [
                "MessageSid": try message.decode(column: "provider_id", as: String.self), "MessageStatus": "delivered",
                "NumSegments": "1",
            ]
            #expect(
                try await server.callback("/webhooks/simulator/status?message=\(messageID)", late).status == .noContent
            )
            #expect(try await server.pool(org)["posted"] as? Double == 9)
            #expect(try await server.verifyLedger() == [])

            // `ledger verify` names a final message whose hold was left pending.
            _ = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Again"}"#
            )
            try await server.services.database.transaction { sql in
                try await sql.raw("UPDATE messages SET status = 'delivered' WHERE status = 'queued'").run()
            }
            #expect(try await server.verifyLedger().map(\.invariant) == ["final_message_settled"])
        }
    }

    @Test(arguments: stores)
    func textsWhoseDispatcherDiedAreSentOnceTheirLeaseRunsOut(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: MessagingTests.phones(3))
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Gym closed Monday."}"#
            )
            #expect(sent.status == .created, "\(sent.text)")
            // A dispatcher claims the texts and dies before it hands them to the provider.
            let claimed = try await server.services.stores.messages.claim(
                limit: 100,
                now: server.clock.now,
                leaseUntil: server.clock.now.addingTimeInterval(120)
            )
            #expect(claimed.count == 3)
            // While the lease runs nothing is taken back, and looking costs no write transaction.
            let counting = CountingDatabase(server.services.database)
            let early = try await MessageStore(database: counting).reclaimExpiredLeases(now: server.clock.now)
            #expect(early == 0)
            #expect(counting.transactions == 0)
            // The lease runs out: the texts are queued again, as retries, and go once.
            server.clock.advance(300)
            #expect(try await server.services.dispatcher.reclaimExpiredLeases() == 3)
            #expect(try await server.services.dispatcher.reclaimExpiredLeases() == 0)
            #expect(try await server.services.dispatcher.runOnce() == 3)
            let accepted = try await server.services.database.read { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM simulator_messages").first()?.decode(
                    column: "n",
                    as: Int.self
                )
            }
            #expect(accepted == 3, "the provider took each text once")
            let idle = try await MessageStore(database: counting).claim(
                limit: 100,
                now: server.clock.now,
                leaseUntil: server.clock.now.addingTimeInterval(120)
            )
            #expect(idle.isEmpty)
            #expect(counting.transactions == 0, "texts sent and none due: the poll took no write transaction")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func dispatchResultsAndReportsForTheSameMessagesNeverDeadlock(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 2500)
            try await server.importContacts(org, phones: MessagingTests.phones(200))
            let messages = server.services.stores.messages
            var claimedTotal = 0
            // Ten campaigns of 200; each round a dispatcher records 100 sends in one order while their delivery reports
            // (the provider answered fast) arrive in the other; both lock the same rows.
            for _ in 0..<10 {
                _ = try await server.request(
                    .post,
                    "/v1/messages",
                    key: org.ownerKey,
                    json: #"{"groups": ["families"], "body": "Hello"}"#
                )
                while true {
                    let claimed = try await messages.claim(
                        limit: 100,
                        now: server.clock.now,
                        leaseUntil: server.clock.now.addingTimeInterval(120)
                    )
                    guard !claimed.isEmpty else { break }
                    claimedTotal += claimed.count
                    let ids = claimed.map(\.id).sorted()
                    let results = ids.reversed().map {
                        (id: $0, result: DispatchResult.sent(providerID: "SM\($0)", segments: 1))
                    }
                    let reports = ids.map {
                        MessageStore.Report(
                            messageID: $0,
                            providerID: "SM\($0)",
                            status: .delivered,
                            errorCode: nil,
                            errorMessage: nil,
                            segments: 1
                        )
                    }
                    async let recorded: Void = server.services.settlement.record(results)
                    async let applied = server.services.settlement.applyReports(reports)
                    try await recorded
                    #expect(try await applied.allSatisfy { $0?.message.status == .delivered })
                }
            }
            #expect(claimedTotal == 2000)
            let pool = try await server.pool(org)
            #expect(pool["posted"] as? Double == 500, "one credit for each of the 2,000 delivered")
            #expect(pool["pending"] as? Double == 0)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func notEnoughCreditsRefusesTheWholeSendAndQueuesNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 2)
            try await server.importContacts(org, phones: ["+14155550123", "+14155550124", "+14155550125"])
            let response = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Hello"}"#
            )
            #expect(response.status.code == 402)
            #expect(response.errorCode == "insufficient_credits")
            #expect(try (response.object()["error"] as? [String: Any])?["shortfall"] as? Double == 1)
            let rows = try await server.services.database.read { sql in
                try await sql.raw(
                    "SELECT (SELECT COUNT(*) FROM messages) AS messages, (SELECT COUNT(*) FROM ledger_holds) AS holds"
                ).first()
            }
            #expect(try rows?.decode(column: "messages", as: Int.self) == 0)
            #expect(try rows?.decode(column: "holds", as: Int.self) == 0)
            #expect(try await server.pool(org)["available"] as? Double == 2)
        }
    }

    @Test(arguments: stores)
    func optedOutAndNeverOptedInNumbersAreSkippedAndCounted(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123", "+14155550124"])
            try await server.importContacts(org, phones: ["+14155550125"], consent: "opted_out")
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json: #"{"name": "New", "phone": "+14155550126", "groups": ["families"]}"#
            )
            let body =
                #"{"groups": ["families"], "to": ["4155550123", "not a number"], "contacts": ["con_missing"], "body": "Hi"}"#
            let response = try await server.request(.post, "/v1/messages", key: org.ownerKey, json: body)
            let object = try response.object()
            #expect(object["accepted"] as? Int == 2)
            #expect(
                object["skipped"] as? [String: Int] == [
                    "opted_out": 1, "not_opted_in": 1, "duplicate": 1, "invalid_number": 1, "not_found": 1,
                ]
            )
            #expect(object["requested"] as? Int == 7)
        }
    }

    @Test(arguments: stores)
    func aNumberThatOptsOutAfterQueueingIsNeverSentTo(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123"])
            _ = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hello"}"#
            )
            #expect(try await server.inbound(org, from: "+14155550123", "STOP").status == .ok)
            try await server.services.dispatcher.runOnce()
            let statuses = try await server.services.database.read { sql in
                try await sql.raw(
                    "SELECT kind, status, error_code FROM messages WHERE direction = 'outbound' ORDER BY created_at"
                ).all().map {
                    "\(try $0.decode(column: "kind", as: String.self)):\(try $0.decode(column: "status", as: String.self)):\(try $0.decode(column: "error_code", as: String?.self) ?? "")"
                }
            }
            #expect(statuses.contains("campaign:failed:opted_out"))
            #expect(statuses.contains("keyword_reply:sent:"), "the opt-out confirmation itself still goes out")
            let sims = try await server.services.stores.simulator.all()
            #expect(sims.map(\.body).allSatisfy { $0.hasPrefix("You have opted out") })
            #expect(try await server.pool(org)["posted"] as? Double == 10)
        }
    }

    @Test(arguments: stores)
    func mergeFieldFailuresAreSkippedAndAudited(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123"])
            _ = try await server.request(
                .post,
                "/v1/contacts",
                key: org.ownerKey,
                json:
                    #"{"name": "Ben", "phone": "+14155550124", "groups": ["families"], "consent": "opted_in", "fields": {"class_name": "Ballet"}}"#
            )
            let response = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "{{first_name}}: {{class_name}} is canceled."}"#
            )
            #expect(try response.object()["accepted"] as? Int == 1)
            #expect(try response.object()["skipped"] as? [String: Int] == ["merge_field": 1])
            let audit = try await server.request(.get, "/v1/audit-log?action=sms.merge_error", key: org.ownerKey).list()
            #expect(
                audit.first?["message"] as? String
                    == "SMS message to Parent 0 (+14155550123) not sent: The merge field {{class_name}} is not known for this recipient."
            )
        }
    }

    @Test(arguments: stores)
    func aScheduledCampaignCanBeCanceledAndItsHoldsAreVoided(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123", "+14155550124"])
            let later = ISO8601DateFormatter().string(from: server.clock.now.addingTimeInterval(3600))
            let response = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"groups": ["families"], "body": "Tomorrow!", "send_at": "\#(later)"}"#
            )
            let id = try #require(try response.object()["id"] as? String)
            #expect(try response.object()["status"] as? String == "scheduled")
            #expect(try await server.services.dispatcher.runOnce() == 0, "nothing goes out before its time")
            #expect(try await server.pool(org)["available"] as? Double == 8)
            let canceled = try await server.request(.post, "/v1/campaigns/\(id)/cancel", key: org.ownerKey)
            #expect(try canceled.object()["status"] as? String == "canceled")
            #expect(try canceled.object()["counts"] as? [String: Int] == ["canceled": 2])
            #expect(try canceled.object()["credits_released"] as? Double == 2)
            #expect(try await server.pool(org)["available"] as? Double == 10)
            server.clock.advance(7200)
            #expect(try await server.services.dispatcher.runOnce() == 0)
            #expect(try await server.verifyLedger() == [])
        }
    }
}
