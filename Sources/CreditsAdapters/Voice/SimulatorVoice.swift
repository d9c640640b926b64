import AsyncHTTPClient
import CreditsCore
import Foundation
import Logging
import NIOCore

/// The Simulator's telephone network: it rings simulated phones (`SimulatedPhone`, chosen by the
/// number), asks the server what to do on each answered call through its signed TwiML webhooks,
/// follows the TwiML (plays, gathers a 9, dials, records), and reports the call's progress and
/// duration to the status callback — what Twilio does, without a network. A call's flow is kept
/// in the log until its last callback lands, so a restart finishes it.
public actor SimulatorVoice {
    let authToken: String
    let delay: Duration
    let log: any SimulatorLog
    let logger: Logger
    private var pending: [(call: SimulatedCall, due: ContinuousClock.Instant, attempt: Int)] = []
    private var waiter: CheckedContinuation<Void, Never>?
    static let concurrencyMax = 128

    init(authToken: String, delay: Duration, log: any SimulatorLog, logger: Logger) {
        self.authToken = authToken
        self.delay = delay
        self.log = log
        self.logger = logger
    }

    func enqueue(_ call: SimulatedCall) {
        pending.append((call, ContinuousClock.now + delay, 0))
        waiter?.resume()
        waiter = nil
    }

    private func take() async -> [(SimulatedCall, Int)] {
        while pending.isEmpty && !Task.isCancelled { await withCheckedContinuation { waiter = $0 } }
        // Every call that is due, wherever it stands (a retry waiting longer holds nobody up).
        let now = ContinuousClock.now
        var due: [(SimulatedCall, Int)] = []
        var later: [(call: SimulatedCall, due: ContinuousClock.Instant, attempt: Int)] = []
        for item in pending {
            if item.due <= now && due.count < SimulatorVoice.concurrencyMax {
                due.append((item.call, item.attempt))
            } else {
                later.append(item)
            }
        }
        pending = later
        return due
    }

    private func wake() {
        waiter?.resume()
        waiter = nil
    }

    func run(using client: HTTPClient) async {
        if let resumed = try? await log.pendingCalls(limit: 100_000) {
            for call in resumed { pending.append((call, ContinuousClock.now, 0)) }
        }
        await withTaskCancellationHandler {
            while !Task.isCancelled {
                let batch = await take()
                if batch.isEmpty {
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                await withTaskGroup(of: Void.self) { group in
                    for (call, attempt) in batch {
                        group.addTask { await self.complete(call, attempt: attempt, using: client) }
                    }
                }
            }
        } onCancel: {
            Task { await self.wake() }
        }
    }

    /// Plays one call through and reports it; on a failure to reach the server it is tried
    /// again later (the server ignores what it already applied).
    func complete(_ call: SimulatedCall, attempt: Int, using client: HTTPClient) async {
        do {
            try await SimulatorVoice.run(call, web: SignedPoster(authToken: authToken, client: client), log: log)
            try await log.callFinished(providerID: call.providerID)
        } catch {
            // Tried again with backoff (0.2, 0.4 … 25.6 s), then given up: a call whose server
            // is gone for good is not rung forever.
            guard attempt + 1 < SimulatorVoice.attemptsMax, !Task.isCancelled else {
                logger.warning("simulated call gave up", metadata: ["call": "\(call.reference)", "error": "\(error)"])
                if !Task.isCancelled { try? await log.callFinished(providerID: call.providerID) }
                return
            }
            logger.info(
                "simulated call will be tried again",
                metadata: ["call": "\(call.reference)", "error": "\(error)"]
            )
            pending.append((call, ContinuousClock.now + .milliseconds(200 * (1 << attempt)), attempt + 1))
        }
    }

    static let attemptsMax = 8

    /// What happened on a line so far: its time, and callbacks the provider sends after the call
    /// ends (a transcription).
    struct Line {
        var seconds = 0
        var afterwards: [(url: String, parameters: [String: String])] = []
    }

    /// Rings the phone, follows the server's TwiML, and reports the end of the call.
    public static func run(_ call: SimulatedCall, web: some CallbackPoster, log: any SimulatorLog) async throws {
        let phone = SimulatedPhone(number: call.to)
        let base = ["CallSid": call.providerID, "From": call.from, "To": call.to, "AccountSid": "ACsimulator"]
        var answeredBy: String?
        var status = "completed"
        var line = Line()
        switch phone {
        case .fails: status = "failed"
        case .busy: status = "busy"
        case .noAnswer: status = "no-answer"
        case .machine, .person:
            if call.machineDetection.isOn {
                if case .machine = phone { answeredBy = "machine_end_beep" } else { answeredBy = "human" }
            }
            var parameters = base.merging(["CallStatus": "in-progress", "Direction": "outbound-api"]) { $1 }
            if let answeredBy { parameters["AnsweredBy"] = answeredBy }
            let twiml = try await web.post(call.answerURL, parameters)
            try await follow(twiml, call: call, caller: phone, line: &line, web: web, log: log)
        }
        var final = base.merging(["CallStatus": status]) { $1 }
        final["CallDuration"] = String(status == "completed" ? min(max(line.seconds, 1), call.timeLimit) : 0)
        if let answeredBy { final["AnsweredBy"] = answeredBy }
        _ = try await web.post(call.statusCallback, final)
        for (url, parameters) in line.afterwards { _ = try await web.post(url, parameters) }
    }

    /// Someone calls one of the server's numbers: the server's voice webhook answers with TwiML,
    /// which the Simulator follows as Twilio would (ringing the forwarding numbers, recording a
    /// voicemail, transcribing it), then reports the end of the call. Returns the call's sid.
    public static func receive(
        from: String,
        to: String,
        voiceURL: String,
        statusCallback: String,
        log: any SimulatorLog,
        web: some CallbackPoster
    ) async throws -> String {
        let sid = "CA" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let call = SimulatedCall(
            reference: sid,
            providerID: sid,
            from: from,
            to: to,
            timeLimit: 4 * 3600,
            machineDetection: .off,
            answerURL: voiceURL,
            statusCallback: statusCallback,
            expectedSeconds: 6
        )
        let twiml = try await web.post(
            voiceURL,
            [
                "CallSid": sid, "From": from, "To": to, "CallStatus": "ringing", "Direction": "inbound",
                "AccountSid": "ACsimulator",
            ]
        )
        var line = Line()
        try await follow(twiml, call: call, caller: SimulatedPhone(number: from), line: &line, web: web, log: log)
        _ = try await web.post(
            statusCallback,
            [
                "CallSid": sid, "From": from, "To": to, "CallStatus": "completed",
                "CallDuration": String(max(line.seconds, 1)),
            ]
        )
        for (url, parameters) in line.afterwards { _ = try await web.post(url, parameters) }
        return sid
    }

    /// A simulated caller's voicemail: this many seconds of silence.
    public static let voicemailSeconds = 20

    /// Follows a TwiML document, adding up the time it takes.
    static func follow(
        _ document: String,
        call: SimulatedCall,
        caller: SimulatedPhone,
        line: inout Line,
        web: some CallbackPoster,
        log: any SimulatorLog
    ) async throws {
        guard let verbs = TwiML.parse(document) else { throw SimulatorCallbackError.twiml }
        let base = ["CallSid": call.providerID, "From": call.from, "To": call.to]
        for verb in verbs {
            switch verb {
            case .hangup:
                line.seconds += 1
                return
            case .say, .play: line.seconds += call.expectedSeconds
            case .pause(let length): line.seconds += length
            case .gather(_, let action, _, _):
                // The message and the offer to press 9, as long as the server said they last.
                line.seconds += call.expectedSeconds
                if case .person(_, true) = caller {
                    let next = try await web.post(action, base.merging(["Digits": "9"]) { $1 })
                    try await follow(next, call: call, caller: caller, line: &line, web: web, log: log)
                    return
                }
            case .dial(let numbers, _, let timeout, let timeLimit, let action):
                // The first number that answers takes the call.
                var status = "no-answer"
                var connected = 0
                for number in numbers {
                    switch SimulatedPhone(number: number) {
                    case .person(let talk, _):
                        status = "completed"
                        connected = min(talk, timeLimit)
                    case .busy where status == "no-answer": status = "busy"
                    case .fails where status == "no-answer": status = "failed"
                    default: break
                    }
                    if status == "completed" { break }
                }
                line.seconds += connected + (status == "completed" ? 5 : timeout)
                let next = try await web.post(
                    action,
                    base.merging(["DialCallStatus": status, "DialCallDuration": String(connected)]) { $1 }
                )
                try await follow(next, call: call, caller: caller, line: &line, web: web, log: log)
                return
            case .record(let maxLength, let action, let transcribeCallback):
                let seconds = min(maxLength, SimulatorVoice.voicemailSeconds)
                let digest = try await log.keepMedia(SimulatorVoice.silence(seconds: seconds), kind: .wav)
                line.seconds += seconds
                let recording = base.merging([
                    "RecordingUrl": SimulatorProvider.mediaScheme + digest,
                    "RecordingDuration": String(seconds), "RecordingSid": "RE" + digest.prefix(32),
                ]) { $1 }
                let next = try await web.post(action, recording)
                if let transcribeCallback {
                    line.afterwards.append(
                        (
                            transcribeCallback,
                            recording.merging([
                                "TranscriptionStatus": "completed",
                                "TranscriptionText":
                                    "Hello, this is a simulated voicemail from \(call.from). Please call me back.",
                            ]) { $1 }
                        )
                    )
                }
                try await follow(next, call: call, caller: caller, line: &line, web: web, log: log)
                return
            }
        }
    }

    /// A WAV file of silence (8 kHz, 8-bit mono).
    public static func silence(seconds: Int) -> [UInt8] {
        let rate = 8000
        let length = rate * seconds
        func little(_ value: Int, _ bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8((value >> (8 * $0)) & 0xFF) } }
        var file = Array("RIFF".utf8) + little(36 + length, 4) + Array("WAVE".utf8)
        file += Array("fmt ".utf8) + little(16, 4) + little(1, 2) + little(1, 2) + little(rate, 4) + little(rate, 4)
        file += little(1, 2) + little(8, 2) + Array("data".utf8) + little(length, 4)
        file += [UInt8](repeating: 0x80, count: length)
        return file
    }
}

/// Where the Simulator's telephone network sends its webhooks: over HTTP (`SignedPoster`), or
/// straight into a test's router.
public protocol CallbackPoster: Sendable {
    /// POSTs form parameters, signed as Twilio signs them, to a URL; returns the answer's body.
    func post(_ url: String, _ parameters: [String: String]) async throws -> String
}

/// POSTs form parameters signed as Twilio signs them, returning the body: the Simulator's voice
/// webhooks and its texts' status callbacks.
public struct SignedPoster: CallbackPoster {
    let authToken: String
    let client: HTTPClient
    let timeout: TimeAmount
    /// The most of an answer that is read.
    let answerBytesMax: Int

    public init(
        authToken: String,
        client: HTTPClient,
        timeout: TimeAmount = .seconds(15),
        answerBytesMax: Int = 1 << 20
    ) {
        self.authToken = authToken
        self.client = client
        self.timeout = timeout
        self.answerBytesMax = answerBytesMax
    }

    public func post(_ url: String, _ parameters: [String: String]) async throws -> String {
        let signature = TwilioSignature.sign(url: url, parameters: parameters, authToken: authToken)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "X-Twilio-Signature", value: signature)
        request.body = .bytes(
            ByteBuffer(string: FormEncoding.encode(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        )
        let response = try await client.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: answerBytesMax)
        guard (200..<300).contains(response.status.code) else {
            throw SimulatorCallbackError.status(Int(response.status.code))
        }
        return String(buffer: body)
    }
}
