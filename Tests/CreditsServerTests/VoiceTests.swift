import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

/// Voice, paid in credits that never go negative (the PastorsLine page: "Send a voice message
/// (Voice Broadcast) - 2 credits per minutes plus machine detection … 0.5 credits per number
/// called", "Outgoing calls - 2 credits per minute", "Call forwarding - 3 credits per minute",
/// "1 credit more IF the caller left a voicemail recording", "4 credits more to transcribe the
/// voicemail to text").
@Suite struct VoiceTests {
    static let stores = TestDatabase.available

    /// The Simulator's telephone network posting straight into the test's router, signed.
    struct RouterPoster: CallbackPoster {
        let server: TestServer

        func post(_ url: String, _ parameters: [String: String]) async throws -> String {
            let base = server.services.baseURL
            #expect(url.hasPrefix(base), "\(url)")
            let answer = try await server.callback(String(url.dropFirst(base.count)), parameters)
            guard answer.status == .ok || answer.status == .noContent else {
                throw CallbackRefused(status: Int(answer.status.code), body: answer.text)
            }
            return answer.text
        }
    }

    struct CallbackRefused: Error {
        let status: Int
        let body: String
    }

    /// Places every queued call and plays each one through the Simulator's network, until none is left.
    static func callEveryone(_ server: TestServer) async throws {
        let simulator = try #require(server.services.simulator)
        while try await server.services.callDispatcher.runOnce() > 0 {
            for call in try await server.services.stores.simulator.pendingCalls(limit: 100_000) {
                try await simulator.complete(call, web: RouterPoster(server: server))
            }
        }
    }

    static func json(_ response: TestResponse) throws -> [String: Any] { try response.object() }

    /// Hands a claimed call to the provider as the dispatcher would, without recording the answer
    /// (a dispatcher that dies, or a provider faster than our own transaction); returns its sid.
    @discardableResult
    static func placeAtProvider(_ server: TestServer, _ call: Call) async throws -> String {
        let base = server.services.baseURL
        return try await server.services.provider.placeCall(
            OutboundCall(
                reference: call.id,
                from: call.from,
                to: call.to,
                timeLimit: call.timeLimit,
                machineDetection: call.machineDetection,
                answerURL: "\(base)/webhooks/simulator/voice/answer?call=\(call.id)",
                statusCallback: "\(base)/webhooks/simulator/voice/status?call=\(call.id)",
                expectedSeconds: call.timeLimit,
                queuedAt: call.createdAt
            )
        )
    }

    @Test(arguments: stores)
    func aThousandNumberBroadcastWithDetectionSettlesExactly(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 3000)
            // +14155550000 … +14155550999: 0001 fails, 0003 is busy, 0004 does not answer, 0005 is a
            // machine, 0006 talks for hours, 0009 presses 9; the rest answer.
            let phones = (0..<1000).map { String(format: "+1415555%04d", $0) }
            try await server.importContacts(org, phones: phones, group: "members")
            while try await server.services.contactImports.runNext() > 0 {}
            let body =
                #"{"groups": ["members"], "say": {"text": "Service is cancelled this Sunday because of snow. Stay safe.", "voice": "woman", "language": "en-US"}, "machine_detection": "leave_message", "override_sending_hours": true}"#
            let estimate = try VoiceTests.json(
                try await server.request(.post, "/v1/voice/broadcasts/estimate", key: org.ownerKey, json: body)
            )
            #expect(estimate["recipients"] as? Int == 1000)
            #expect(estimate["minutes"] as? Int == 1)
            #expect(estimate["credits_per_recipient"] as? Double == 2.5, "2 a minute + 0.5 detection")
            #expect(estimate["credits_total"] as? Double == 2500)
            #expect(try await server.pool(org)["pending"] as? Double == 0, "an estimate holds nothing")

            let sent = try await server.request(.post, "/v1/voice/broadcasts", key: org.ownerKey, json: body)
            #expect(sent.status == .created, "\(sent.text)")
            let broadcast = try #require(try sent.object()["id"] as? String)
            #expect(try sent.object()["credits_reserved"] as? Double == 2500, "the estimate is what is held")
            #expect(try await server.pool(org)["pending"] as? Double == 2500)

            try await VoiceTests.callEveryone(server)
            #expect(try await server.services.stores.simulator.callCount() == 1000, "each number called once")

            let view = try VoiceTests.json(
                try await server.request(.get, "/v1/voice/broadcasts/\(broadcast)", key: org.ownerKey)
            )
            let calls = try #require(view["calls"] as? [String: Int])
            #expect(calls["completed"] == 997 && calls["busy"] == 1 && calls["no-answer"] == 1 && calls["failed"] == 1)
            #expect(view["status"] as? String == "completed")
            #expect(view["answered_by_machine"] as? Int == 1)
            #expect(view["opted_out"] as? Int == 1, "0009 pressed 9")
            // Answered (by a person or a machine): 1 minute x 2 + 0.5 detection; the rest nothing.
            #expect(view["credits_charged"] as? Double == 997 * 2.5)
            let pool = try await server.pool(org)
            #expect(pool["available"] as? Double == 3000 - 997 * 2.5 && pool["pending"] as? Double == 0, "\(pool)")

            // A report repeated, or one out of order, changes nothing.
            let answered = try #require(
                try await server.services.stores.calls.calls(of: org.id, broadcast: broadcast, before: nil, limit: 2000)
                    .first { $0.to == "+14155550100" }
            )
            for status in ["completed", "ringing", "in-progress", "busy"] {
                let again = try await server.callback(
                    "/webhooks/simulator/voice/status?call=\(answered.id)",
                    ["CallSid": try #require(answered.providerID), "CallStatus": status, "CallDuration": "600"]
                )
                #expect(again.status == .noContent)
            }
            let after = try #require(try await server.services.stores.calls.call(answered.id))
            #expect(after.status == .completed && after.charged == Credits(milli: 2500) && after.duration == 60)
            #expect(try await server.pool(org)["available"] as? Double == 3000 - 997 * 2.5)

            // The person who pressed 9 is opted out as if they had texted STOP.
            let nine = try #require(
                try await server.services.stores.contacts.contact(phone: "+14155550009", of: org.id)
            )
            #expect(nine.consent == .optedOut)
            let sentences = try await server.services.database.read { sql in
                try await sql.raw("SELECT action, message FROM audit_log WHERE subject_type = 'call' ORDER BY id").all()
                    .map {
                        (
                            try $0.decode(column: "action", as: String.self),
                            try $0.decode(column: "message", as: String.self)
                        )
                    }
            }
            let delivered = try #require(sentences.first { $0.1.hasPrefix("Voice message delivered to +14155550100.") })
            #expect(delivered.0 == "voice.delivered")
            #expect(delivered.1.hasPrefix("Voice message delivered to +14155550100. 2.5 credits used. "))
            #expect(delivered.1.hasSuffix(" remaining."))
            #expect(
                sentences.contains { $0.1 == "Voice message to +14155550003 not delivered (busy). No credits used." }
            )
            #expect(sentences.contains { $0.1 == "+14155550009 pressed 9 during a voice message and was opted out." })
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func stoppedNumbersAreNotCalledEvenWhenTheyStopAfterTheBroadcastWasQueued(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 20)
            try await server.importContacts(
                org,
                phones: ["+14155550100", "+14155550101", "+14155550102"],
                group: "members"
            )
            while try await server.services.contactImports.runNext() > 0 {}
            #expect(try await server.inbound(org, from: "+14155550100", "STOP").status == .ok)
            let sent = try await server.request(
                .post,
                "/v1/voice/broadcasts",
                key: org.ownerKey,
                json:
                    #"{"groups": ["members"], "say": {"text": "Choir practice moved to 7pm."}, "override_sending_hours": true}"#
            )
            #expect(sent.status == .created, "\(sent.text)")
            #expect(try sent.object()["skipped"] as? [String: Int] == ["opted_out": 1])
            #expect(try sent.object()["accepted"] as? Int == 2)
            // One more texts STOP after the broadcast was queued: not called, hold released.
            #expect(try await server.inbound(org, from: "+14155550101", "stop").status == .ok)
            try await VoiceTests.callEveryone(server)
            let called = try await server.services.stores.simulator.pendingCalls(limit: 10)
            #expect(called.isEmpty)
            #expect(try await server.services.stores.simulator.callCount() == 1, "only +14155550102 was called")
            let calls = try await server.services.stores.calls.calls(of: org.id, before: nil, limit: 10)
            let stopped = try #require(calls.first { $0.to == "+14155550101" })
            #expect(stopped.status == .failed && stopped.errorCode == "opted_out" && stopped.charged == .zero)
            #expect(try await server.pool(org)["available"] as? Double == 18, "one call answered: 2 credits")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func anOutgoingCallIsCappedByTheBalanceAndPostsTheCoveredMinutes(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 7)
            let placed = try await server.request(
                .post,
                "/v1/calls",
                key: org.ownerKey,
                json: #"{"to": "+14155550006", "staff": "+14155550100"}"#
            )
            #expect(placed.status == .created, "\(placed.text)")
            let call = try placed.object()
            #expect(call["credits_held"] as? Double == 6, "3 whole minutes fit in 7 credits")
            #expect(call["time_limit"] as? Int == 180)
            let id = try #require(call["id"] as? String)

            // The staff member answers; the TwiML connects them with the time limit the hold covers.
            #expect(try await server.services.callDispatcher.runOnce() == 1)
            let simulated = try #require(try await server.services.stores.simulator.pendingCalls(limit: 1).first)
            #expect(simulated.to == "+14155550100", "the staff member's phone rings first")
            #expect(simulated.timeLimit == 180 + CallDispatcher.ringAllowance)
            let twiml = try await server.callback(
                "/webhooks/simulator/voice/answer?call=\(id)",
                ["CallSid": simulated.providerID, "CallStatus": "in-progress"]
            )
            #expect(
                twiml.text
                    == #"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Connecting your call.</Say><Dial callerId="\#(simulated.from)" timeout="30" timeLimit="180" action="\#(server.services.baseURL)/webhooks/simulator/voice/dialed?call=\#(id)" method="POST"><Number>+14155550006</Number></Dial><Hangup/></Response>"#
            )
            try await server.services.simulator?.complete(simulated, web: RouterPoster(server: server))
            let ended = try VoiceTests.json(try await server.request(.get, "/v1/calls/\(id)", key: org.ownerKey))
            #expect(ended["status"] as? String == "completed")
            #expect(ended["connected_duration"] as? Int == 180, "the contact talked until the limit")
            #expect(ended["credits_charged"] as? Double == 6)
            let pool = try await server.pool(org)
            #expect(pool["available"] as? Double == 1 && pool["pending"] as? Double == 0)

            // With less than a minute's credits the call is refused and nothing is held.
            let refused = try await server.request(
                .post,
                "/v1/calls",
                key: org.ownerKey,
                json: #"{"to": "+14155550006"}"#
            )
            #expect(refused.status.code == 402, "\(refused.text)")
            #expect(refused.text.contains("insufficient_credits"))
            #expect(try await server.verifyLedger() == [])
        }
    }

    static func forward(_ server: TestServer, _ org: TestServer.Org, _ json: String) async throws {
        let saved = try await server.request(.put, "/v1/organization/call-forwarding", key: org.ownerKey, json: json)
        #expect(saved.status == .ok, "\(saved.text)")
    }

    @Test(arguments: stores)
    func aForwardedCallWithVoicemailAndTranscriptionPostsThreeAMinutePlusOnePlusFour(_ store: TestDatabase) async throws
    {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 100)
            let number = try await server.services.sendingNumbers.sendingNumber(org.id)
            let simulator = try #require(server.services.simulator)
            // Nobody answers the forwarding number (0004): greeting, voicemail, transcription.
            try await VoiceTests.forward(
                server,
                org,
                #"{"enabled": true, "numbers": ["+14155550004"], "ring_seconds": 15, "transcribe": true}"#
            )
            let sid = try await simulator.receiveCall(
                from: "+14155559876",
                to: number,
                base: server.services.baseURL,
                web: RouterPoster(server: server)
            )
            let call = try #require(try await server.services.stores.calls.call(byProviderID: sid))
            #expect(call.voicemailMedia != nil && call.voicemailSeconds == SimulatorVoice.voicemailSeconds)
            #expect(call.transcription?.hasPrefix("Hello, this is a simulated voicemail") == true)
            // 15 s ringing + the greeting + 20 s recorded: one started minute.
            #expect(call.duration.map { $0 > 0 && $0 <= 60 } == true, "\(String(describing: call.duration))")
            #expect(call.charged == Credits(credits: 3 + 1 + 4))
            let voicemails = try await server.request(.get, "/v1/voicemails", key: org.ownerKey).object()
            let first = try #require((voicemails["data"] as? [[String: Any]])?.first)
            let voicemail = try #require(first["voicemail"] as? [String: Any])
            let media = try #require(voicemail["media"] as? String)
            let recording = try await server.request(.get, "/v1/media/\(media)", key: org.ownerKey)
            #expect(recording.status == .ok && recording.headers[.contentType] == "audio/wav")

            // Answered on the second number: 3 a started minute of the call, nothing more.
            try await VoiceTests.forward(
                server,
                org,
                #"{"enabled": true, "numbers": ["+14155550004", "+14155550100"], "ring_seconds": 15}"#
            )
            let second = try await simulator.receiveCall(
                from: "+14155559877",
                to: number,
                base: server.services.baseURL,
                web: RouterPoster(server: server)
            )
            let answered = try #require(try await server.services.stores.calls.call(byProviderID: second))
            #expect(answered.connectedDuration == SimulatedPhone.talkSeconds && answered.voicemailMedia == nil)
            #expect(answered.charged == Credits(credits: 3) * PriceList.startedMinutes(answered.duration ?? 0))
            #expect(try await server.pool(org)["pending"] as? Double == 0)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func atZeroCreditsAnInboundCallStillReachesVoicemailAndForwardingIsSkipped(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            let number = try await server.services.sendingNumbers.sendingNumber(org.id)
            try await VoiceTests.forward(
                server,
                org,
                #"{"enabled": true, "numbers": ["+14155550100"], "transcribe": true}"#
            )
            let simulator = try #require(server.services.simulator)
            let sid = try await simulator.receiveCall(
                from: "+14155559876",
                to: number,
                base: server.services.baseURL,
                web: RouterPoster(server: server)
            )
            let call = try #require(try await server.services.stores.calls.call(byProviderID: sid))
            #expect(call.connectedDuration == nil, "nobody was rung")
            #expect(call.note == "There were not enough credits to forward the call.")
            #expect(call.voicemailMedia != nil, "the caller could still leave a voicemail")
            #expect(call.transcription == nil && call.transcribe == false, "not transcribed without its fee")
            #expect(call.charged == .zero && call.holdID == nil)
            let pool = try await server.pool(org)
            #expect(pool["available"] as? Double == 0 && pool["pending"] as? Double == 0)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func everyVoiceWebhookRefusesAnUnsignedRequestAndChangesNothing(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            let number = try await server.services.sendingNumbers.sendingNumber(org.id)
            let placed = try await server.request(
                .post,
                "/v1/calls",
                key: org.ownerKey,
                json: #"{"to": "+14155550123", "staff": "+14155550100"}"#
            )
            let id = try #require(try placed.object()["id"] as? String)
            let attacks: [(String, [String: String])] = [
                ("/webhooks/simulator/voice/incoming", ["CallSid": "CAx", "From": "+14155550999", "To": number]),
                ("/webhooks/simulator/voice/answer?call=\(id)", ["CallSid": "CAx", "CallStatus": "in-progress"]),
                ("/webhooks/simulator/voice/keypress?call=\(id)", ["CallSid": "CAx", "Digits": "9"]),
                (
                    "/webhooks/simulator/voice/dialed?call=\(id)",
                    ["CallSid": "CAx", "DialCallStatus": "completed", "DialCallDuration": "1"]
                ),
                (
                    "/webhooks/simulator/voice/recorded?call=\(id)",
                    ["CallSid": "CAx", "RecordingUrl": "simulator-media:x", "RecordingDuration": "5"]
                ),
                (
                    "/webhooks/simulator/voice/transcribed?call=\(id)",
                    ["CallSid": "CAx", "TranscriptionStatus": "completed", "TranscriptionText": "x"]
                ),
                (
                    "/webhooks/simulator/voice/status?call=\(id)",
                    ["CallSid": "CAx", "CallStatus": "completed", "CallDuration": "1"]
                ),
            ]
            for (path, parameters) in attacks {
                let unsigned = try await server.callback(path, parameters, signed: false)
                #expect(unsigned.status == .forbidden, "\(path)")
                let forged = try await server.callback(path, parameters, signedFor: "https://elsewhere.example")
                #expect(forged.status == .forbidden, "\(path)")
            }
            let call = try #require(try await server.services.stores.calls.call(id))
            #expect(call.status == .queued && call.providerID == nil && call.charged == nil)
            #expect(try await server.services.stores.calls.calls(of: org.id, before: nil, limit: 10).count == 1)
            // Out-of-range durations are refused, not believed.
            let huge = try await server.callback(
                "/webhooks/simulator/voice/status?call=\(id)",
                ["CallSid": "CAx", "CallStatus": "completed", "CallDuration": "999999999"]
            )
            #expect(huge.status == .badRequest)
            #expect(try await server.pool(org)["pending"] as? Double == 10)
        }
    }

    @Test(arguments: stores)
    func aCallInterruptedBetweenTheProviderAndTheRecordRingsNobodyTwice(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 50)
            try await server.importContacts(org, phones: (100..<110).map { "+1415555\($0 + 1000)" }, group: "members")
            while try await server.services.contactImports.runNext() > 0 {}
            let sent = try await server.request(
                .post,
                "/v1/voice/broadcasts",
                key: org.ownerKey,
                json: #"{"groups": ["members"], "say": {"text": "Hello"}, "override_sending_hours": true}"#
            )
            #expect(sent.status == .created, "\(sent.text)")
            // A dispatcher claims the calls and hands them to the provider, then dies before it
            // records the answers: the provider has them, our rows say nothing.
            let claimed = try await server.services.stores.calls.claim(
                limit: 100,
                now: server.clock.now,
                leaseUntil: server.clock.now.addingTimeInterval(120)
            )
            #expect(claimed.count == 10)
            for (call, _) in claimed {
                try await VoiceTests.placeAtProvider(server, call)
            }
            // While the lease runs nothing is taken back, and looking costs no write transaction.
            let counting = CountingDatabase(server.services.database)
            let early = try await CallStore(database: counting).reclaimExpiredLeases(now: server.clock.now)
            #expect(early == 0 && counting.transactions == 0)
            // The lease runs out; another dispatcher takes the calls over as retries.
            server.clock.advance(300)
            #expect(try await server.services.callDispatcher.reclaimExpiredLeases() == 10)
            try await VoiceTests.callEveryone(server)
            #expect(try await server.services.stores.simulator.callCount() == 10, "nobody rung twice")
            let calls = try await server.services.stores.calls.calls(of: org.id, before: nil, limit: 20)
            #expect(calls.allSatisfy { $0.status == .completed && $0.charged == Credits(credits: 2) })
            #expect(try await server.pool(org)["available"] as? Double == 30)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aCallWhoseReportsArriveBeforeItsDispatchIsRecordedStillSettlesOnce(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 10)
            try await server.importContacts(org, phones: ["+14155550123"])
            while try await server.services.contactImports.runNext() > 0 {}
            let placed = try await server.request(
                .post,
                "/v1/voice/broadcasts",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "say": {"text": "Hello"}, "override_sending_hours": true}"#
            )
            #expect(placed.status == .created, "\(placed.text)")
            // The provider answers, plays and reports the whole call before the dispatcher has
            // written down the call's sid (a provider faster than our own transaction).
            let (call, _) = try #require(
                try await server.services.stores.calls.claim(
                    limit: 1,
                    now: server.clock.now,
                    leaseUntil: server.clock.now.addingTimeInterval(120)
                ).first
            )
            let sid = try await VoiceTests.placeAtProvider(server, call)
            let simulated = try #require(try await server.services.stores.simulator.pendingCalls(limit: 1).first)
            let simulator = try #require(server.services.simulator)
            try await simulator.complete(simulated, web: RouterPoster(server: server))
            try await server.services.callSettlement.record([(call.id, .placed(providerID: sid))])
            let settled = try #require(try await server.services.stores.calls.call(call.id))
            #expect(settled.status == .completed && settled.providerID == sid && settled.charged == Credits(credits: 2))
            #expect(try await server.pool(org)["available"] as? Double == 8)
            #expect(try await server.verifyLedger() == [])
        }
    }

    /// Posts a signed voice webhook and returns its answer's text.
    static func hook(_ server: TestServer, _ path: String, _ parameters: [String: String]) async throws -> String {
        let answer = try await server.callback("/webhooks/simulator/voice/\(path)", parameters)
        #expect(answer.status == .ok || answer.status == .noContent, "\(path): \(answer.text)")
        return answer.text
    }

    @Test(arguments: stores)
    func aVoicemailReportedAfterTheCallEndedIsStillKeptAndCharged(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 100)
            let number = try await server.services.sendingNumbers.sendingNumber(org.id)
            try await VoiceTests.forward(
                server,
                org,
                #"{"enabled": true, "numbers": ["+14155550004"], "transcribe": true}"#
            )
            let digest = try await server.services.media.keepSimulated(Data(SimulatorVoice.silence(seconds: 5)))
            let caller = ["CallSid": "CAlate", "From": "+14155559876", "To": number]
            _ = try await VoiceTests.hook(server, "incoming", caller)
            let id = try #require(try await server.services.stores.calls.call(byProviderID: "CAlate")?.id)
            let voicemail = try await VoiceTests.hook(
                server,
                "dialed?call=\(id)&next=1",
                caller.merging(["DialCallStatus": "no-answer", "DialCallDuration": "0"]) { $1 }
            )
            #expect(voicemail.contains("<Record maxLength="))
            // The caller hangs up: the transcription, then the call's end, come before the recording.
            _ = try await VoiceTests.hook(
                server,
                "transcribed?call=\(id)",
                caller.merging(["TranscriptionStatus": "completed", "TranscriptionText": "Call me back."]) { $1 }
            )
            _ = try await VoiceTests.hook(
                server,
                "status",
                caller.merging(["CallStatus": "completed", "CallDuration": "40"]) { $1 }
            )
            var call = try #require(try await server.services.stores.calls.call(id))
            #expect(call.status == .completed && call.charged == nil, "waits for the recording")
            _ = try await VoiceTests.hook(
                server,
                "recorded?call=\(id)",
                caller.merging([
                    "RecordingUrl": SimulatorProvider.mediaScheme + digest, "RecordingDuration": "5",
                ]) { $1 }
            )
            call = try #require(try await server.services.stores.calls.call(id))
            #expect(call.voicemailMedia != nil && call.transcription == "Call me back.")
            #expect(call.charged == Credits(credits: 3 + 1 + 4), "a minute forwarded, the voicemail, its transcription")

            // Another caller is offered voicemail and hangs up without leaving one: a minute
            // later the call settles without the voicemail's fees.
            let quiet = ["CallSid": "CAquiet", "From": "+14155559877", "To": number]
            _ = try await VoiceTests.hook(server, "incoming", quiet)
            let quietID = try #require(try await server.services.stores.calls.call(byProviderID: "CAquiet")?.id)
            _ = try await VoiceTests.hook(
                server,
                "dialed?call=\(quietID)&next=1",
                quiet.merging(["DialCallStatus": "no-answer", "DialCallDuration": "0"]) { $1 }
            )
            _ = try await VoiceTests.hook(
                server,
                "status",
                quiet.merging(["CallStatus": "completed", "CallDuration": "25"]) { $1 }
            )
            #expect(try await server.services.callFlow.settleStragglers() == 0, "not before a minute has passed")
            server.clock.advance(61)
            #expect(try await server.services.callFlow.settleStragglers() == 1)
            let settled = try #require(try await server.services.stores.calls.call(quietID))
            #expect(
                settled.voicemailMedia == nil && settled.charged == Credits(credits: 3),
                "the forwarded minute only"
            )
            #expect(try await server.pool(org)["pending"] as? Double == 0)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aClickToCallWhoseEndIsReportedBeforeItsDialResultIsChargedTheConnectedMinutes(_ store: TestDatabase)
        async throws
    {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.fund(org, credits: 20)
            let placed = try await server.request(
                .post,
                "/v1/calls",
                key: org.ownerKey,
                json: #"{"to": "+14155550123", "staff": "+14155550100"}"#
            )
            let id = try #require(try placed.object()["id"] as? String)
            #expect(try await server.services.callDispatcher.runOnce() == 1)
            let sid = try #require(try await server.services.stores.calls.call(id)?.providerID)
            let leg = ["CallSid": sid, "From": "+15555550000", "To": "+14155550100"]
            _ = try await VoiceTests.hook(
                server,
                "answer?call=\(id)",
                leg.merging(["CallStatus": "in-progress"]) { $1 }
            )
            // A second call for the same row (placed again) hears nothing.
            let twin = try await VoiceTests.hook(
                server,
                "answer?call=\(id)",
                ["CallSid": "CAtwin", "CallStatus": "in-progress"]
            )
            #expect(twin.contains("<Hangup/>") && !twin.contains("<Dial"))
            _ = try await VoiceTests.hook(
                server,
                "status?call=\(id)",
                leg.merging(["CallStatus": "completed", "CallDuration": "130"]) { $1 }
            )
            #expect(try await server.services.stores.calls.call(id)?.charged == nil, "waits for the dial's result")
            _ = try await VoiceTests.hook(
                server,
                "dialed?call=\(id)",
                leg.merging(["DialCallStatus": "answered", "DialCallDuration": "61"]) { $1 }
            )
            #expect(
                try await server.services.stores.calls.call(id)?.charged == Credits(credits: 4),
                "2 started minutes at 2"
            )
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func staffLimitedToANumberSeeOnlyItsCallsAndSpokenTextMustBeText(_ store: TestDatabase) async throws {
        try await TestServer.with(store) { server in
            let org = try await server.makeOrganization()
            try await server.assignNumbers(org, ["+14155550111": "local", "+14155550222": "local"])
            let clerk = try await server.addStaff(org, role: .staff)
            let limited = try await server.request(
                .patch,
                "/v1/staff/\(clerk.id)",
                key: org.ownerKey,
                json: #"{"numbers": ["+14155550111"]}"#
            )
            #expect(limited.status == .ok, "\(limited.text)")
            _ = try await VoiceTests.hook(
                server,
                "incoming",
                ["CallSid": "CAone", "From": "+14155559870", "To": "+14155550111"]
            )
            _ = try await VoiceTests.hook(
                server,
                "incoming",
                ["CallSid": "CAtwo", "From": "+14155559871", "To": "+14155550222"]
            )
            let other = try #require(try await server.services.stores.calls.call(byProviderID: "CAtwo")?.id)
            let seen = try await server.request(.get, "/v1/calls", key: clerk.key).object()
            #expect((seen["data"] as? [[String: Any]])?.map { $0["from"] as? String } == ["+14155550111"])
            #expect(try await server.request(.get, "/v1/calls/\(other)", key: clerk.key).status == .notFound)
            #expect(try await server.request(.get, "/v1/calls/\(other)", key: org.ownerKey).status == .ok)

            let refused = try await server.request(
                .post,
                "/v1/voice/broadcasts/estimate",
                key: org.ownerKey,
                json: #"{"to": ["+14155550123"], "say": {"text": "Hello\u0001there"}}"#
            )
            #expect(refused.status == .unprocessableContent && refused.text.contains("say.text"), "\(refused.text)")
        }
    }
}
