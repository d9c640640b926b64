import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// Several numbers: the price follows the sending number (the PastorsLine page: "Toll-free
/// outgoing texts will cost 1.5 credits per 160 characters"), toll-free numbers are requested
/// like local ones, and a released number sends nothing more.
@Suite struct NumbersTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func aTollFreeSenderIsChargedTheTollFreeRateWithoutAnyChannelField(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 100)
            try await server.importContacts(org, phones: ["+14155550123"])
            try await server.assignNumbers(org, ["+14155550100": "local", "+18885550100": "toll_free"])
            let numbers = try await server.request(.get, "/v1/numbers", key: org.ownerKey).list()
            let tollFree = try #require(numbers.first { $0["kind"] as? String == "toll_free" })
            #expect(tollFree["number"] as? String == "+18885550100" && tollFree["monthly_credits"] as? Int == 125)
            #expect(numbers.first?["default"] as? Bool == true && numbers.first?["kind"] as? String != "toll_free")
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json:
                    #"{"to": ["+14155550123"], "body": "Hello", "from": "(888) 555-0100", "override_sending_hours": true}"#
            )
            #expect(sent.status == .created, "\(sent.text)")
            #expect(try sent.object()["channel"] as? String == "toll-free")
            #expect(try await server.pool(org)["pending"] as? Double == 1.5, "1.5 credits for one segment")
            let local = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hello", "override_sending_hours": true}"#
            )
            #expect(try local.object()["channel"] as? String == "sms", "the default number is local: 1 credit")
            #expect(try await server.pool(org)["pending"] as? Double == 2.5)
            let stranger = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hello", "from": "+12125550100"}"#
            )
            #expect(stranger.errorCode == "number_not_found" && stranger.errorField == "from")
        }
    }

    @Test(arguments: stores)
    func tollFreeNumbersAreRequestedAndAReleasedNumberStopsSending(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 100)
            try await server.importContacts(org, phones: ["+14155550123"])
            let local = try await server.request(
                .post,
                "/v1/numbers",
                key: org.ownerKey,
                json: #"{"area_code": "415"}"#
            )
            #expect(local.errorCode == "brand_required", "a local number needs the brand")
            let wrong = try await server.request(.post, "/v1/numbers", key: org.ownerKey, json: #"{"kind": "vanity"}"#)
            #expect(wrong.errorField == "kind")
            let notTollFree = try await server.request(
                .post,
                "/v1/numbers",
                key: org.ownerKey,
                json: #"{"kind": "toll_free", "area_code": "415"}"#
            )
            #expect(notTollFree.errorField == "area_code")
            let requested = try await server.request(
                .post,
                "/v1/numbers",
                key: org.ownerKey,
                json: #"{"kind": "toll_free"}"#
            )
            #expect(requested.status == .created, "\(requested.text)")
            server.clock.advance(5)
            try await server.services.registration.poll()
            var numbers = try await server.request(.get, "/v1/numbers", key: org.ownerKey).list()
            var tollFree = try #require(numbers.first { $0["kind"] as? String == "toll_free" }, "\(numbers)")
            let number = try #require(tollFree["number"] as? String)
            #expect(number.hasPrefix("+1888555"))

            // It sends once the carriers verified it: submitted when assigned, answered later.
            #expect(tollFree["verification"] as? String == "pending" && tollFree["default"] as? Bool == false)
            let early = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hi", "from": "\#(number)", "override_sending_hours": true}"#
            )
            #expect(early.status == .conflict && early.errorCode == "toll_free_not_verified", "\(early.text)")
            #expect(try await server.pool(org)["pending"] as? Double == 0, "nothing reserved")
            server.clock.advance(5)
            try await server.services.registration.poll()
            numbers = try await server.request(.get, "/v1/numbers", key: org.ownerKey).list()
            tollFree = try #require(numbers.first { $0["kind"] as? String == "toll_free" })
            #expect(tollFree["verification"] as? String == "verified", "\(tollFree)")
            let audit = try await server.services.database.read { sql in
                try await sql.raw("SELECT action FROM audit_log WHERE action LIKE 'sms.toll_free%' ORDER BY id").all()
                    .map {
                        try $0.decode(column: "action", as: String.self)
                    }
            }
            #expect(audit == ["sms.toll_free_verification_submitted", "sms.toll_free_verified"])

            // A text waiting for later from it, then the number is released.
            let later = ISO8601DateFormatter().string(from: server.clock.now.addingTimeInterval(86_400))
            let queued = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Tomorrow", "from": "\#(number)", "send_at": "\#(later)"}"#
            )
            #expect(queued.status == .created, "\(queued.text)")
            #expect(try await server.pool(org)["pending"] as? Double == 1.5)
            let id = try #require(tollFree["id"] as? String)
            let staff = try await server.addStaff(org, role: .staff)
            #expect(try await server.request(.delete, "/v1/numbers/\(id)", key: staff.key).status == .forbidden)
            #expect(try await server.request(.delete, "/v1/numbers/\(id)", key: org.ownerKey).status == .noContent)
            #expect(
                try await server.pool(org)["pending"] as? Double == 0,
                "the queued text was canceled, its hold released"
            )
            let after = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hello", "from": "\#(number)"}"#
            )
            #expect(after.errorCode == "number_not_found", "a released number sends nothing more")
            #expect(try await server.request(.delete, "/v1/numbers/\(id)", key: org.ownerKey).status == .notFound)
            let other = try await server.makeOrganization("Other Office")
            let theirs = try await server.request(.get, "/v1/numbers", key: other.ownerKey).list()
            #expect(!theirs.contains { $0["number"] as? String == number })
            #expect(try await server.verifyLedger() == [])
        }
    }
}

/// A number given back can be bought again, by anyone: it then reaches its new owner only.
@Suite struct ReleasedNumberTests {
    @Test(arguments: TestDatabase.available)
    func aReleasedNumberAssignedToAnotherOrganisationReachesOnlyIt(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let first = try await server.makeOrganization()
            let second = try await server.makeOrganization("Second Gym")
            let numbers = server.services.stores.numbers
            try await numbers.assign(
                "+14155550100",
                to: first.id,
                kind: "local",
                provider: "twilio",
                at: server.clock.now
            )
            #expect(
                try await server.request(.delete, "/v1/numbers/14155550100", key: first.ownerKey).status == .noContent
            )
            #expect(
                try await numbers.organization(forNumber: "+14155550100") == nil,
                "a released number reaches nobody"
            )
            try await numbers.assign(
                "+14155550100",
                to: second.id,
                kind: "local",
                provider: "twilio",
                at: server.clock.now
            )
            #expect(try await numbers.organization(forNumber: "+14155550100") == second.id)
            try await server.inbound(second, from: "+14155550181", to: "+14155550100", "Hello")
            #expect(try await server.request(.get, "/v1/conversations", key: second.ownerKey).list().count == 1)
            #expect(try await server.request(.get, "/v1/conversations", key: first.ownerKey).list().isEmpty)
        }
    }
}

/// Replies go to the conversation of the number they came to, and staff answer from it.
@Suite struct ConversationNumberTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func aPersonTextingTwoNumbersHasAConversationOnEachAndRepliesGoFromIt(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.assignNumbers(org, ["+14155550100": "local", "+18885550100": "toll_free"])
            try await server.inbound(org, from: "+14155550181", to: "+14155550100", "Is the north branch open?")
            server.clock.advance(1)
            try await server.inbound(org, from: "+14155550181", to: "+18885550100", "And the hotline?")
            let list = try await server.request(.get, "/v1/conversations", key: org.ownerKey).list()
            #expect(list.count == 2, "one conversation per number: \(list)")
            let onTollFree = try #require(list.first { $0["number"] as? String == "+18885550100" })
            let onLocal = try #require(list.first { $0["number"] as? String == "+14155550100" })
            #expect(onTollFree["last_message"] as? String == "And the hotline?")
            #expect(onLocal["last_message"] as? String == "Is the north branch open?")

            let reply = try await server.request(
                .post,
                "/v1/conversations/\(try #require(onTollFree["id"] as? String))/messages",
                key: org.ownerKey,
                json: #"{"body": "Yes, all day"}"#
            )
            #expect(reply.status == .created, "\(reply.text)")
            let sent = try reply.object()
            #expect(sent["from"] as? String == "+18885550100", "the reply goes from the number they texted")
            #expect(sent["channel"] as? String == "toll-free" && sent["credits"] as? Double == 1.5)
            #expect(sent["conversation_id"] as? String == onTollFree["id"] as? String)
            let local = try await server.request(
                .post,
                "/v1/conversations/\(try #require(onLocal["id"] as? String))/messages",
                key: org.ownerKey,
                json: #"{"body": "Yes"}"#
            )
            #expect(try local.object()["from"] as? String == "+14155550100")
            #expect(try local.object()["credits"] as? Double == 1)
            #expect(try await server.request(.get, "/v1/conversations", key: org.ownerKey).list().count == 2)
            // The portal's thread says which number it is on.
            var owner = try await PortalBrowser.signIn(
                server,
                email: WebPortalTests.ownerEmail,
                password: WebPortalTests.ownerPassword
            )
            let page = try await owner.get("/inbox/\(try #require(onTollFree["id"] as? String))").text
            #expect(page.contains("On our number +1 888 555 0100 (toll-free"), "\(page)")
            #expect(try await owner.get("/inbox").text.contains("on +1 888 555 0100"))
        }
    }
}

/// Staff can be limited to some numbers: a branch's agent sends only from the branch's number
/// and sees only its conversations.
@Suite struct StaffNumberTests {
    static let stores = TestDatabase.available

    @Test(arguments: stores)
    func aLimitedAgentSendsOnlyFromTheirNumberAndSeesOnlyItsConversations(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 20)
            try await server.importContacts(org, phones: ["+14155550123"])
            try await server.assignNumbers(org, ["+14155550100": "local", "+18885550100": "toll_free"])
            let agent = try await server.addStaff(org, role: .staff, permissions: [.sendMassTexts])
            let admin = try await server.addStaff(org, role: .admin)

            // Who may limit whom: not the agent (no manage_settings), only real numbers.
            let selfLimit = try await server.request(
                .patch,
                "/v1/staff/\(agent.id)",
                key: agent.key,
                json: #"{"numbers": []}"#
            )
            #expect(selfLimit.status == .forbidden, "\(selfLimit.text)")
            let stranger = try await server.request(
                .patch,
                "/v1/staff/\(agent.id)",
                key: admin.key,
                json: #"{"numbers": ["+12125550100"]}"#
            )
            #expect(stranger.errorCode == "number_not_found" && stranger.errorField == "numbers", "\(stranger.text)")
            let limited = try await server.request(
                .patch,
                "/v1/staff/\(agent.id)",
                key: admin.key,
                json: #"{"numbers": ["(888) 555-0100"]}"#
            )
            #expect(limited.status == .ok, "\(limited.text)")
            #expect(try limited.object()["numbers"] as? [String] == ["+18885550100"])

            // Their default is their number; another one is refused.
            let numbers = try await server.request(.get, "/v1/numbers", key: agent.key).list()
            #expect(numbers.first { $0["number"] as? String == "+14155550100" }?["yours"] as? Bool == false)
            #expect(numbers.first { $0["number"] as? String == "+18885550100" }?["default"] as? Bool == true)
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: agent.key,
                json: #"{"to": ["+14155550123"], "body": "Open house at 2", "override_sending_hours": true}"#
            )
            #expect(sent.status == .created, "\(sent.text)")
            #expect(try sent.object()["channel"] as? String == "toll-free")
            let other = try await server.request(
                .post,
                "/v1/messages",
                key: agent.key,
                json: #"{"to": ["+14155550123"], "body": "Hi", "from": "+14155550100", "override_sending_hours": true}"#
            )
            #expect(other.status == .forbidden && other.errorCode == "number_not_allowed", "\(other.text)")

            // Conversations on the other number are not theirs to see or answer.
            try await server.inbound(org, from: "+14155550181", to: "+14155550100", "North branch?")
            try await server.inbound(org, from: "+14155550181", to: "+18885550100", "Hotline?")
            let everyone = try await server.request(.get, "/v1/conversations", key: org.ownerKey).list()
            #expect(everyone.count == 2)
            let theirs = try await server.request(.get, "/v1/conversations", key: agent.key).list()
            #expect(theirs.map { $0["number"] as? String } == ["+18885550100"], "\(theirs)")
            let hidden = try #require(everyone.first { $0["number"] as? String == "+14155550100" }?["id"] as? String)
            #expect(try await server.request(.get, "/v1/conversations/\(hidden)", key: agent.key).status == .notFound)
            let answer = try await server.request(
                .post,
                "/v1/conversations/\(hidden)/messages",
                key: agent.key,
                json: #"{"body": "Yes"}"#
            )
            #expect(answer.status == .notFound)

            // An empty list gives every number back.
            let all = try await server.request(
                .patch,
                "/v1/staff/\(agent.id)",
                key: admin.key,
                json: #"{"numbers": []}"#
            )
            #expect(try all.object()["numbers"] as? [String] == [])
            #expect(try await server.request(.get, "/v1/conversations", key: agent.key).list().count == 2)
            #expect(try await server.verifyLedger() == [])
        }
    }
}

/// A toll-free number the carriers refuse never sends, and says why.
@Suite struct TollFreeVerificationTests {
    @Test(arguments: TestDatabase.available)
    func aRejectedVerificationKeepsTheNumberFromSendingAndSaysWhy(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123"])
            let requested = try await server.request(
                .post,
                "/v1/numbers",
                key: org.ownerKey,
                json:
                    #"{"kind": "toll_free", "verification": {"business_name": "Rejected Realty", "message_sample": "Open house at 2. Reply STOP to opt out."}}"#
            )
            #expect(requested.status == .created, "\(requested.text)")
            let blank = try await server.request(
                .post,
                "/v1/numbers",
                key: org.ownerKey,
                json: #"{"kind": "toll_free", "verification": {"business_name": "  "}}"#
            )
            #expect(blank.errorField == "verification.business_name", "\(blank.text)")
            for _ in 0..<3 {
                server.clock.advance(5)
                try await server.services.registration.poll()
            }
            let numbers = try await server.request(.get, "/v1/numbers", key: org.ownerKey).list()
            let tollFree = try #require(numbers.first { $0["kind"] as? String == "toll_free" }, "\(numbers)")
            #expect(tollFree["verification"] as? String == "rejected")
            #expect((tollFree["verification_message"] as? String)?.contains("how recipients agreed") == true)
            let refused = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hi", "from": "\#(tollFree["number"] as? String ?? "")"}"#
            )
            #expect(refused.errorCode == "toll_free_not_verified", "\(refused.text)")
            #expect(refused.text.contains("how recipients agreed"))
            // The test number stays the default; sends from it are unaffected.
            let sent = try await server.request(
                .post,
                "/v1/messages",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "body": "Hi", "override_sending_hours": true}"#
            )
            #expect(sent.status == .created, "\(sent.text)")
        }
    }
}
