import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// Reprocessing from toll-free (the PastorsLine page: "Reprocessing from toll-free numbers is now
/// 1 credit per message [160 characters]. This is a setting you control (on or off).").
@Suite struct ReprocessingTests {
    static let stores = TestDatabase.available

    /// An organisation with a local and a toll-free number, 10 credits, and two contacts: one a
    /// carrier filters from local numbers (the Simulator's 0007), one it does not.
    static func setUp(_ server: TestServer) async throws -> TestServer.Org {
        let org = try await server.makeOrganization()
        try await server.fund(org, credits: 10)
        try await server.importContacts(org, phones: ["+14155550007", "+14155550123"])
        try await server.assignNumbers(org, ["+14155550100": "local", "+18885550100": "toll_free"])
        return org
    }

    /// Dispatches what is queued and reports each text as the Simulator decides, until nothing is left.
    static func sendAndReport(_ server: TestServer) async throws {
        var reported = Set<String>()
        while try await server.services.dispatcher.runOnce() > 0 {
            for message in try await server.services.stores.simulator.all() where !reported.contains(message.reference)
            {
                reported.insert(message.reference)
                var parameters = ["MessageSid": message.providerID, "MessageStatus": message.outcome.rawValue]
                if let code = message.errorCode { parameters["ErrorCode"] = code }
                let answer = try await server.callback(
                    "/webhooks/simulator/status?message=\(message.reference)",
                    parameters
                )
                #expect(answer.status == .noContent)
            }
        }
    }

    @Test(arguments: stores)
    func aFilteredTextIsReSentOnceFromTollFreeAtOneCredit(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await ReprocessingTests.setUp(server)
            let on = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"reprocess_from_toll_free": true}"#
            )
            #expect(on.status == .ok, "\(on.text)")
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json:
                    #"{"to": ["+14155550007", "+14155550123"], "body": "Practice moved to 5pm", "override_sending_hours": true}"#
            )
            #expect(sent.status == .created, "\(sent.text)")
            let campaign = try #require(try sent.object()["campaign_id"] as? String ?? sent.object()["id"] as? String)
            #expect(try await server.pool(org)["pending"] as? Double == 2, "two local texts at 1 credit")
            try await ReprocessingTests.sendAndReport(server)

            let simulated = try await server.services.stores.simulator.all()
            #expect(simulated.count == 3, "two texts and one re-send")
            let filtered = try #require(simulated.first { $0.to == "+14155550007" && $0.from == "+14155550100" })
            #expect(filtered.errorCode == "30007")
            let resent = try #require(simulated.first { $0.to == "+14155550007" && $0.from == "+18885550100" })
            #expect(resent.outcome == .delivered)

            // Both attempts are on record and point at each other.
            let first = try await server.request(.get, "/v1/messages/\(filtered.reference)", key: org.ownerKey).object()
            let firstMessage = try #require(first["message"] as? [String: Any] ?? first as [String: Any]?)
            #expect(firstMessage["status"] as? String == "undelivered")
            #expect(firstMessage["error_code"] as? String == "30007")
            #expect(firstMessage["reprocessed_as"] as? String == resent.reference)
            #expect(firstMessage["charged"] as? Double == 0, "the filtered attempt costs nothing")
            let second = try await server.request(.get, "/v1/messages/\(resent.reference)", key: org.ownerKey).object()
            let secondMessage = try #require(second["message"] as? [String: Any] ?? second as [String: Any]?)
            #expect(secondMessage["reprocess_of"] as? String == filtered.reference)
            #expect(secondMessage["from"] as? String == "+18885550100")
            #expect(secondMessage["status"] as? String == "delivered")
            #expect(secondMessage["charged"] as? Double == 1, "1 credit per 160 characters")

            // One credit for the text delivered from local, one for the re-send: 8 left.
            let pool = try await server.pool(org)
            #expect(pool["available"] as? Double == 8 && pool["pending"] as? Double == 0, "\(pool)")
            let totals = try await server.services.stores.messages.campaignTotals(campaign)
            #expect(totals.counts == [.delivered: 2], "the recipient counts once, by the re-send")
            let view = try await server.request(.get, "/v1/campaigns/\(campaign)", key: org.ownerKey).object()
            #expect(view["credits_reserved"] as? Double == 3, "two texts and the re-send's hold: \(view)")
            #expect(view["credits_posted"] as? Double == 2 && view["credits_released"] as? Double == 1)
            let audit = try await server.services.database.read { sql in
                try await sql.raw("SELECT message FROM audit_log WHERE action = 'sms.reprocessed'").all().map {
                    try $0.decode(column: "message", as: String.self)
                }
            }
            #expect(
                audit == [
                    "SMS message to +14155550007 was filtered by the carrier (30007). No credits used. Re-sent from the toll-free number +18885550100."
                ]
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func withoutTheSettingOrATollFreeNumberAFilteredTextIsNotReSent(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await ReprocessingTests.setUp(server)
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550007"], "body": "Practice moved to 5pm", "override_sending_hours": true}"#
            )
            #expect(sent.status == .created, "\(sent.text)")
            try await ReprocessingTests.sendAndReport(server)
            #expect(try await server.services.stores.simulator.all().count == 1, "off by default: no re-send")
            #expect(try await server.pool(org)["available"] as? Double == 9, "undelivered is charged as before")

            // On, but the toll-free number released: nothing to re-send from.
            _ = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"reprocess_from_toll_free": true}"#
            )
            #expect(
                try await server.request(.delete, "/v1/numbers/18885550100", key: org.ownerKey).status == .noContent
            )
            _ = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550007"], "body": "Practice moved to 6pm", "override_sending_hours": true}"#
            )
            try await ReprocessingTests.sendAndReport(server)
            #expect(try await server.services.stores.simulator.all().count == 2)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aTextChargedByItsHoldTimeoutIsNotReSentWhenItsFilterReportComesLate(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await ReprocessingTests.setUp(server)
            _ = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"reprocess_from_toll_free": true}"#
            )
            _ = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550007"], "body": "Hi", "override_sending_hours": true}"#
            )
            while try await server.services.dispatcher.runOnce() > 0 {}
            server.clock.advance(73 * 3600)
            #expect(try await server.services.settlement.timeOutHolds() == 1)
            #expect(try await server.pool(org)["available"] as? Double == 9, "charged by the timeout")
            let sent = try #require(try await server.services.stores.simulator.all().first)
            _ = try await server.callback(
                "/webhooks/simulator/status?message=\(sent.reference)",
                ["MessageSid": sent.providerID, "MessageStatus": "undelivered", "ErrorCode": "30007"]
            )
            while try await server.services.dispatcher.runOnce() > 0 {}
            #expect(try await server.services.stores.simulator.all().count == 1, "not re-sent: it was charged already")
            #expect(try await server.pool(org)["available"] as? Double == 9)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test func onlyAFilteredPaidLocalTextIsACandidateAndOnlyOnce() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var message = Message(
            id: "msg_1",
            organizationID: OrganizationID("org_1"),
            campaignID: nil,
            conversationID: nil,
            direction: .outbound,
            kind: .campaign,
            from: "+14155550100",
            to: "+14155550007",
            body: "Hello",
            channel: .sms,
            segments: 2,
            credits: Credits(milli: 2_000),
            status: .undelivered,
            holdID: HoldID("hold_1"),
            errorCode: "30007",
            notBefore: now,
            createdAt: now,
            updatedAt: now
        )
        #expect(Reprocessing.isCandidate(message))
        let resend = Reprocessing.resend(
            of: message,
            from: "+18885550100",
            id: "msg_2",
            hold: HoldID("hold_2"),
            prices: .standard,
            at: now
        )
        #expect(resend.credits == Credits(milli: 2_000) && resend.channel == .sms && resend.reprocessOf == "msg_1")
        #expect(!Reprocessing.isCandidate(resend), "a re-send is not re-sent again")
        message.errorCode = "30003"
        #expect(!Reprocessing.isCandidate(message), "unreachable is not filtering")
        message.errorCode = "30034"
        message.channel = .tollFree
        #expect(!Reprocessing.isCandidate(message), "already from toll-free")
        message.channel = .sms
        message.holdID = nil
        #expect(!Reprocessing.isCandidate(message), "a free text")
    }
}
