import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import TestSupport
import Testing

@Suite struct InboundTests {
    static let stores = TestDatabase.available

    func outbound(_ server: TestServer) async throws -> [(kind: String, body: String, credits: Int64)] {
        try await server.services.database.read { sql in
            try await sql.raw(
                "SELECT kind, body, credits FROM messages WHERE direction = 'outbound' ORDER BY created_at, id"
            ).all().map {
                (
                    try $0.decode(column: "kind", as: String.self), try $0.decode(column: "body", as: String.self),
                    try $0.decode(column: "credits", as: Int64.self)
                )
            }
        }
    }

    func consent(_ server: TestServer, _ org: TestServer.Org, _ phone: String) async throws -> ConsentState {
        try await server.services.stores.contacts.consent(organization: org.id, phone: phone)
    }

    @Test(arguments: stores)
    func stopStartAndHelpVariantsAreHonouredAndAnsweredFree(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let phone = "+14155550177"
            for text in [
                "STOP", " stop. ", "Unsubscribe!", "opt out", "CANCEL", "end", "Quit", "revoke", "STOPALL", "OptOut",
            ] {
                try await server.inbound(org, from: phone, "START")
                #expect(try await consent(server, org, phone) == .optedIn, "START before \(text)")
                try await server.inbound(org, from: phone, text)
                #expect(try await consent(server, org, phone) == .optedOut, "\(text.debugDescription) opts out")
            }
            for text in ["yes", "Unstop", " START!"] {
                try await server.inbound(org, from: phone, "STOP")
                try await server.inbound(org, from: phone, text)
                #expect(try await consent(server, org, phone) == .optedIn, "\(text.debugDescription) opts in")
            }
            try await server.inbound(org, from: phone, "help")
            let replies = try await outbound(server)
            #expect(replies.allSatisfy { $0.kind == "keyword_reply" && $0.credits == 0 }, "keyword answers are free")
            #expect(
                replies.last?.body
                    == "This is Bright Stars Gym. For help, contact Bright Stars Gym directly. Msg & data rates may apply. To opt out, reply STOP.",
                "the HELP reply names the organisation, not another company's portal"
            )
            #expect(
                replies.contains {
                    $0.body.hasPrefix(
                        "You have opted out of text messages from our system and will receive no further messages from Bright Stars Gym."
                    )
                }
            )
            let history = try await server.services.stores.contacts.consentHistory(organization: org.id, phone: phone)
            #expect(history.contains { $0.rawText == " stop. " && $0.source == .keyword })
        }
    }

    @Test(arguments: stores)
    func optingInByTextSendsTheSignupMessageAndItIsCharged(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 5)
            _ = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json:
                    #"{"signup_message": "Welcome to Bright Stars Gym texts!", "header": "BSG", "sending_hours": {"start": "09:00", "end": "09:01", "days": ["sun"]}}"#
            )
            try await server.inbound(org, from: "+14155550178", "START")
            // Both are made at the same instant: their order is not what is tested.
            let messages = try await outbound(server)
            #expect(messages.map(\.kind).sorted() == ["keyword_reply", "signup"])
            let signup = messages.first { $0.kind == "signup" }
            #expect(signup?.body == "Welcome to Bright Stars Gym texts!", "no header on the signup message")
            #expect(signup?.credits == 1000)
            #expect(try await server.services.dispatcher.runOnce() == 2, "sent at once, outside the sending hours")
            #expect(try await server.pool(org)["pending"] as? Double == 1)
        }
    }

    @Test(arguments: stores)
    func otherTextsBecomeConversationsAndOptOutWordsAreFlagged(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.inbound(org, from: "+14155550179", "Is class still on tonight?")
            try await server.inbound(org, from: "+14155550179", "ok thanks")
            try await server.inbound(org, from: "+14155550180", "Please stop texting me about this")
            let all = try await server.request(.get, "/v1/conversations", key: org.ownerKey).list()
            #expect(all.count == 2)
            let flagged = try await server.request(.get, "/v1/conversations?status=flagged", key: org.ownerKey).list()
            #expect(flagged.map { $0["phone"] as? String } == ["+14155550180"])
            #expect(
                try await consent(server, org, "+14155550180") == .pending,
                "a longer text is only flagged, not an opt-out"
            )
            let id = try #require(all.first { $0["phone"] as? String == "+14155550179" }?["id"] as? String)
            let detail = try await server.request(.get, "/v1/conversations/\(id)", key: org.ownerKey).object()
            #expect(detail["unread"] as? Int == 2)
            #expect(
                (detail["messages"] as? [[String: Any]])?.map { $0["body"] as? String } == [
                    "Is class still on tonight?", "ok thanks",
                ]
            )
            let read = try await server.request(
                .patch,
                "/v1/conversations/\(id)",
                key: org.ownerKey,
                json: #"{"read": true, "status": "closed"}"#
            )
            #expect(try read.object()["unread"] as? Int == 0)
            #expect(try read.object()["status"] as? String == "closed")
            #expect(try await outbound(server).isEmpty, "a two-way number sends nothing automatically")
        }
    }

    @Test(arguments: stores)
    func inboundIsFreeAtZeroBalanceAndRepliesArePricedAndHeld(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.inbound(org, from: "+14155550181", "Can I switch to Tuesday?")
            let id = try #require(
                try await server.request(.get, "/v1/conversations", key: org.ownerKey).list().first?["id"] as? String
            )
            let broke = try await server.request(
                .post,
                "/v1/conversations/\(id)/messages",
                key: org.ownerKey,
                json: #"{"body": "Yes!"}"#
            )
            #expect(broke.status.code == 402, "out of credits: receives, cannot send")
            try await server.fund(org, credits: 3)
            let reply = try await server.request(
                .post,
                "/v1/conversations/\(id)/messages",
                key: org.ownerKey,
                json: #"{"body": "Yes, see you Tuesday 😀"}"#
            )
            #expect(reply.status == .created, "\(reply.text)")
            #expect(try reply.object()["credits"] as? Double == 1)
            #expect(try await server.pool(org)["pending"] as? Double == 1)
            try await server.inbound(org, from: "+14155550181", "STOP")
            let refused = try await server.request(
                .post,
                "/v1/conversations/\(id)/messages",
                key: org.ownerKey,
                json: #"{"body": "Wait"}"#
            )
            #expect(refused.status == .conflict)
            #expect(refused.errorCode == "opted_out")
        }
    }

    @Test(arguments: stores)
    func aNoReplyNumberAnswersWithANotice(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            _ = try await server.request(
                .patch,
                "/v1/organization/sms-settings",
                key: org.ownerKey,
                json: #"{"reply_mode": "no_reply"}"#
            )
            try await server.inbound(org, from: "+14155550182", "Hello?")
            let messages = try await outbound(server)
            #expect(messages.map(\.kind) == ["notice"])
            #expect(messages.first?.credits == 0)
            #expect(messages.first?.body.contains("does not accept replies") == true)
        }
    }

    @Test(arguments: stores)
    func unsignedOrUnknownInboundChangesNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let number = try await server.services.sendingNumbers.sendingNumber(org.id)
            let unsigned = try await server.callback(
                "/webhooks/simulator/inbound",
                ["MessageSid": "SMx", "From": "+14155550183", "To": number, "Body": "STOP"],
                signed: false
            )
            #expect(unsigned.status == .forbidden)
            #expect(try await consent(server, org, "+14155550183") == .pending)
            let wrongProvider = try await server.callback(
                "/webhooks/twilio/inbound",
                ["MessageSid": "SMy", "From": "+14155550183", "To": number, "Body": "STOP"]
            )
            #expect(wrongProvider.status == .notFound)
            let elsewhere = ["MessageSid": "SMz", "From": "+14155550183", "To": number, "Body": "STOP"]
            let otherHost = try await server.callback(
                "/webhooks/simulator/inbound",
                elsewhere,
                signedFor: "http://elsewhere.example"
            )
            #expect(otherHost.status == .forbidden, "a signature for another host is refused")
            #expect(try await consent(server, org, "+14155550183") == .pending)
            // The test client addresses the server as "localhost" (not its base URL, 127.0.0.1).
            // The Host header is the caller's say-so: without a trusted proxy vouching for it,
            // only the configured URL counts.
            let asAddressed = try await server.callback(
                "/webhooks/simulator/inbound",
                elsewhere,
                signedFor: "http://localhost"
            )
            #expect(asAddressed.status == .forbidden, "\(asAddressed.text)")
            #expect(try await consent(server, org, "+14155550183") == .pending)
            let signedForUs = try await server.callback("/webhooks/simulator/inbound", elsewhere)
            #expect(signedForUs.status == .ok, "\(signedForUs.text)")
            #expect(try await consent(server, org, "+14155550183") == .optedOut)
            let repeated = ["MessageSid": "SMsame", "From": "+14155550184", "To": number, "Body": "hi"]
            try await server.callback("/webhooks/simulator/inbound", repeated)
            try await server.callback("/webhooks/simulator/inbound", repeated)
            let detail = try await server.request(.get, "/v1/conversations", key: org.ownerKey).list()
            #expect(detail.first?["unread"] as? Int == 1, "a repeated webhook is recorded once")
        }
    }
}
