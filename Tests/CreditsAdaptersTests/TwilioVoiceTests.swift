import CreditsAdapters
import CreditsCore
import Foundation
import HummingbirdTesting
import Testing

/// The Twilio voice client against the local Twilio-shaped server, and the TwiML the server writes.
@Suite struct TwilioVoiceTests {
    func call(to: String, detection: MachineDetection = .leaveMessage, retry: Bool = false) -> OutboundCall {
        OutboundCall(
            reference: "call_1",
            from: "+15005550006",
            to: to,
            timeLimit: 180,
            machineDetection: detection,
            answerURL: "https://texts.example/webhooks/twilio/voice/answer?call=call_1",
            statusCallback: "https://texts.example/webhooks/twilio/voice/status?call=call_1",
            expectedSeconds: 60,
            isRetry: retry,
            queuedAt: Date(timeIntervalSince1970: 1_796_558_400)  // 2026-12-06 12:00:00 UTC
        )
    }

    @Test func aCallIsCreatedWithItsTimeLimitDetectionAndStatusCallbackEvents() async throws {
        let recorder = TwilioProviderTests.Recorder()
        try await TwilioProviderTests.fakeTwilio(recorder).test(.live) { client in
            let twilio = TwilioProviderTests().provider(port: try #require(client.port))
            #expect(try await twilio.placeCall(call(to: "+15005550123")) == "CA1")
            let request = try #require(recorder.all.first)
            #expect(request.path == "/2010-04-01/Accounts/ACtest/Calls.json")
            #expect(request.authorization == "Basic QUN0ZXN0OnNlY3JldA==")
            #expect(
                request.form == [
                    "To": "+15005550123", "From": "+15005550006",
                    "Url": "https://texts.example/webhooks/twilio/voice/answer?call=call_1", "Method": "POST",
                    "StatusCallback": "https://texts.example/webhooks/twilio/voice/status?call=call_1",
                    "StatusCallbackMethod": "POST", "StatusCallbackEvent": "initiated ringing answered completed",
                    "TimeLimit": "180", "MachineDetection": "DetectMessageEnd",
                ]
            )
            _ = try await twilio.placeCall(call(to: "+15005550124", detection: .hangUp))
            #expect(recorder.all.last?.form["MachineDetection"] == "Enable")
            _ = try await twilio.placeCall(call(to: "+15005550125", detection: .off))
            #expect(recorder.all.last?.form["MachineDetection"] == nil)

            // A refused number is a permanent failure (the hold is released, nobody retried).
            do {
                _ = try await twilio.placeCall(call(to: "+15005550001"))
                Issue.record("expected a refusal")
            } catch let error as ProviderError {
                #expect(error.kind == .invalidNumber && error.isPermanent)
            }
        }
    }

    @Test func aRetryAdoptsTheCallTwilioCreatedSinceItWasQueuedInsteadOfRingingAgain() async throws {
        let recorder = TwilioProviderTests.Recorder()
        try await TwilioProviderTests.fakeTwilio(recorder).test(.live) { client in
            let twilio = TwilioProviderTests().provider(port: try #require(client.port))
            #expect(try await twilio.placeCall(call(to: "+15005550123", retry: true)) == "CAearlier")
            #expect(recorder.all.allSatisfy { $0.path.hasSuffix("?list") }, "no second call created")
            // Nothing since it was queued (an older call to the same person is not ours): placed.
            #expect(try await twilio.placeCall(call(to: "+15005550777", retry: true)).hasPrefix("CA"))
            #expect(recorder.all.last?.path == "/2010-04-01/Accounts/ACtest/Calls.json")
        }
    }

    @Test func callProgressIsReadAndDurationsFromOutsideAreRangeChecked() {
        let done = WebhookParameters.callStatus([
            "CallSid": "CA1", "CallStatus": "completed", "CallDuration": "75", "AnsweredBy": "machine_end_beep",
        ])
        #expect(done?.providerID == "CA1" && done?.status == .completed && done?.duration == 75)
        #expect(done?.answeredBy == .machine)
        #expect(WebhookParameters.callStatus(["CallSid": "CA1", "CallStatus": "ringing"])?.status == .dialing)
        #expect(WebhookParameters.callStatus(["CallSid": "CA1", "CallStatus": "no-answer"])?.status == .noAnswer)
        #expect(
            WebhookParameters.callStatus(["CallSid": "CA1", "CallStatus": "completed", "CallDuration": "-1"]) == nil
        )
        #expect(
            WebhookParameters.callStatus(["CallSid": "CA1", "CallStatus": "completed", "CallDuration": "86401"]) == nil
        )
        #expect(WebhookParameters.callStatus(["CallSid": "CA1", "CallStatus": "exploded"]) == nil)
        #expect(WebhookParameters.callStatus(["CallStatus": "completed"]) == nil)
    }

    @Test func forwardingAndVoicemailTwiMLAreTheDocumentsTwilioExpects() {
        let forward = TwiML.document([
            .dial(
                numbers: ["+14155550100", "+14155550101"],
                callerID: nil,
                timeout: 20,
                timeLimit: 1740,
                action: "https://texts.example/webhooks/twilio/voice/dialed?call=call_1&next=2"
            ),
            .hangup,
        ])
        #expect(
            forward
                == #"<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="20" timeLimit="1740" action="https://texts.example/webhooks/twilio/voice/dialed?call=call_1&amp;next=2" method="POST"><Number>+14155550100</Number><Number>+14155550101</Number></Dial><Hangup/></Response>"#
        )
        let voicemail = TwiML.document([
            .say(
                "Sorry we missed your call. Leave a message <after> the tone & we'll call back.",
                voice: nil,
                language: nil
            ),
            .record(
                maxLength: 120,
                action: "https://texts.example/webhooks/twilio/voice/recorded?call=call_1",
                transcribeCallback: "https://texts.example/webhooks/twilio/voice/transcribed?call=call_1"
            ),
            .hangup,
        ])
        #expect(
            voicemail
                == #"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry we missed your call. Leave a message &lt;after&gt; the tone &amp; we&apos;ll call back.</Say><Record maxLength="120" playBeep="true" action="https://texts.example/webhooks/twilio/voice/recorded?call=call_1" method="POST" transcribe="true" transcribeCallback="https://texts.example/webhooks/twilio/voice/transcribed?call=call_1"/><Hangup/></Response>"#
        )
        let broadcast = TwiML.document([
            .gather(
                numDigits: 1,
                action: "https://texts.example/webhooks/twilio/voice/keypress?call=call_1",
                timeout: 3,
                [
                    .say("Choir practice moved to 7pm.", voice: "Polly.Joanna", language: "en-US"),
                    .say(AudioDuration.optOutPrompt, voice: "Polly.Joanna", language: "en-US"),
                ]
            ),
            .hangup,
        ])
        #expect(
            broadcast
                == #"<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" timeout="3" action="https://texts.example/webhooks/twilio/voice/keypress?call=call_1" method="POST"><Say voice="Polly.Joanna" language="en-US">Choir practice moved to 7pm.</Say><Say voice="Polly.Joanna" language="en-US">To stop receiving these calls, press 9.</Say></Gather><Hangup/></Response>"#
        )
        // What the Simulator reads back is what was written.
        #expect(TwiML.parse(voicemail).map { $0.count } == 3)
        #expect(
            TwiML.parse(forward)?.first
                == .dial(
                    numbers: ["+14155550100", "+14155550101"],
                    callerID: nil,
                    timeout: 20,
                    timeLimit: 1740,
                    action: "https://texts.example/webhooks/twilio/voice/dialed?call=call_1&next=2"
                )
        )
        #expect(TwiML.parse("<Response><Sing/></Response>") == nil)
    }

    @Test func audioFilesSayHowLongTheyPlay() {
        #expect(AudioDuration.seconds(of: SimulatorVoice.silence(seconds: 61), kind: .wav) == 61)
        #expect(AudioDuration.seconds(of: Array("RIFF....WAVE".utf8), kind: .wav) == nil)
        // 38 frames of MPEG-1 layer III at 128 kbit/s, 44.1 kHz: 1152 samples each, about 1 second.
        let frame: [UInt8] = [0xFF, 0xFB, 0x90, 0x00] + [UInt8](repeating: 0, count: 413)
        let mp3 = (0..<38).flatMap { _ in frame }
        #expect(AudioDuration.seconds(of: mp3, kind: .mp3) == 1)
        #expect(AudioDuration.seconds(of: (0..<380).flatMap { _ in frame }, kind: .mp3) == 10)
        #expect(AudioDuration.seconds(of: [0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0], kind: .mp3) == nil)
        // Spoken text: 130 words a minute, with the "press 9" offer read after it.
        #expect(AudioDuration.spokenSeconds(Array(repeating: "word", count: 123).joined(separator: " ")) == 60)
        #expect(AudioDuration.spokenSeconds(Array(repeating: "word", count: 124).joined(separator: " ")) == 61)
    }
}
