import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation
import Logging

/// What the provider is told to do on a call (TwiML verbs), and the state each webhook records:
/// a broadcast's message and its "press 9" offer, click-to-call's connection, and an incoming
/// call's forwarding or voicemail — with the forwarded call's hold placed before it rings anyone.
public struct CallFlowService: Sendable {
    let database: any Database
    let ledgerStore: SQLLedgerStore
    let credits: CreditService
    let calls: CallStore
    let numbers: NumberStore
    let media: MediaService
    let provider: any SMSProvider
    let settlement: CallSettlementService
    let prices: PriceList
    let holdTimeout: TimeInterval
    let callMinutesMax: Int
    let callbackBaseURL: @Sendable () -> String
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        database: any Database,
        ledgerStore: SQLLedgerStore,
        credits: CreditService,
        calls: CallStore,
        numbers: NumberStore,
        media: MediaService,
        provider: any SMSProvider,
        settlement: CallSettlementService,
        prices: PriceList,
        holdTimeout: TimeInterval,
        callMinutesMax: Int = 60,
        callbackBaseURL: @escaping @Sendable () -> String,
        now: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.database = database
        self.ledgerStore = ledgerStore
        self.credits = credits
        self.calls = calls
        self.numbers = numbers
        self.media = media
        self.provider = provider
        self.settlement = settlement
        self.prices = prices
        self.holdTimeout = holdTimeout
        self.callMinutesMax = callMinutesMax
        self.callbackBaseURL = callbackBaseURL
        self.now = now
        self.logger = logger
    }

    func url(_ path: String, call: String, extra: String = "") -> String {
        "\(callbackBaseURL())/webhooks/\(provider.name)/voice/\(path)?call=\(call)\(extra)"
    }

    static let goodbye: [TwiML.Verb] = [.hangup]

    // MARK: Outbound calls

    /// An outbound call was answered: what to play or whom to connect.
    public func answer(callID: String, providerID: String, answeredBy: AnsweredBy?) async throws -> [TwiML.Verb] {
        guard let call = try await calls.call(callID), !call.status.isFinal else { return Self.goodbye }
        // A second call for the same row (placed again after a lost lease) plays nothing.
        if let known = call.providerID, !providerID.isEmpty, known != providerID { return Self.goodbye }
        if call.status != .inProgress {
            try await settlement.apply(
                CallReport(
                    callID: call.id,
                    providerID: providerID,
                    status: .inProgress,
                    answeredBy: answeredBy
                )
            )
        }
        switch call.kind {
        case .broadcast:
            guard let id = call.broadcastID, let broadcast = try await calls.broadcast(id, of: call.organizationID)
            else {
                return Self.goodbye
            }
            if answeredBy == .machine && call.machineDetection == .hangUp { return Self.goodbye }
            let message: TwiML.Verb
            if let audio = broadcast.audioMedia {
                message = .play(callbackBaseURL() + (try await media.signedPath(audio)))
            } else {
                message = .say(broadcast.sayText ?? "", voice: broadcast.sayVoice, language: broadcast.sayLanguage)
            }
            // A machine cannot press 9; everyone else is offered it after the message.
            if answeredBy == .machine { return [message, .hangup] }
            return [
                .gather(
                    numDigits: 1,
                    action: url("keypress", call: call.id),
                    timeout: 3,
                    [
                        message,
                        .say(AudioDuration.optOutPrompt, voice: broadcast.sayVoice, language: broadcast.sayLanguage),
                    ]
                ),
                .hangup,
            ]
        case .outgoing:
            return [
                .say("Connecting your call.", voice: nil, language: nil),
                .dial(
                    numbers: [call.to],
                    callerID: call.from,
                    timeout: 30,
                    timeLimit: call.timeLimit,
                    action: url("dialed", call: call.id)
                ),
                .hangup,
            ]
        case .forwarded: return Self.goodbye
        }
    }

    /// A key pressed during a broadcast: 9 opts the person out.
    public func keypress(callID: String, digits: String) async throws -> [TwiML.Verb] {
        guard digits == "9", try await settlement.keypressOptOut(callID, digits: digits) != nil else {
            return Self.goodbye
        }
        return [.say("You will not receive these calls again. Goodbye.", voice: nil, language: nil), .hangup]
    }

    // MARK: Incoming calls

    /// Someone calls one of our numbers: the call is recorded with its hold, then forwarded
    /// (inside the forwarding hours, with credits for at least a minute) or sent to voicemail.
    /// A number that is not ours hears nothing and is hung up on.
    public func incoming(providerID: String, from caller: String, to number: String) async throws -> [TwiML.Verb] {
        guard let organization = try await numbers.organization(forNumber: number) else { return Self.goodbye }
        if let existing = try await calls.call(byProviderID: providerID) {
            return try await instructions(for: existing, forwardingIndex: 0)
        }
        let instant = now()
        let forwarding =
            try await calls.forwarding(of: organization) ?? .off(greeting: VoiceService.defaultGreeting)
        let pool = try await credits.pool(of: organization)
        let available = try await credits.available(pool, of: organization)
        var reason = forwarding.skipReason(at: instant)
        var transcribe = forwarding.transcribe
        var voicemailFees = prices.voicemail + (transcribe ? prices.transcription : .zero)
        var minutes = 0
        let ringTotal =
            forwarding.ringMode == .sequential
            ? forwarding.ringSeconds * forwarding.numbers.count : forwarding.ringSeconds
        if reason == nil {
            minutes =
                CallAllowance.covered(
                    by: available,
                    perMinute: prices.callForwardingMinute,
                    flat: voicemailFees,
                    minutesMax: callMinutesMax
                ).minutes
            // The minutes held cover the ringing and at least a minute of talk, or nobody is rung.
            if minutes * 60 - ringTotal < 60 {
                minutes = 0
                reason = "There were not enough credits to forward the call."
            }
        }
        if minutes == 0 {
            // Voicemail alone: transcribed only if its fee is there; recorded free at zero.
            if available < voicemailFees { transcribe = false }
            voicemailFees =
                available >= prices.voicemail + (transcribe ? prices.transcription : .zero)
                ? prices.voicemail + (transcribe ? prices.transcription : .zero) : .zero
        }
        let held = prices.callForwardingMinute * minutes + voicemailFees
        var call = Call(
            id: Identifier.make("call_"),
            organizationID: organization,
            kind: .forwarded,
            from: number,
            to: caller,
            status: .inProgress,
            holdID: held > .zero ? HoldID(Identifier.make("hold_")) : nil,
            credits: held,
            timeLimit: minutes > 0 ? minutes * 60 - ringTotal : 0,
            notBefore: instant,
            transcribe: transcribe,
            note: reason,
            createdAt: instant
        )
        call.providerID = providerID
        let request = call.holdID.map { hold in
            LedgerRequest(
                organization: organization,
                idempotencyKey: "reserve:\(call.id)",
                operation: .reserve(
                    hold: hold,
                    account: pool.id,
                    amount: held,
                    reference: call.id,
                    timeoutAt: instant.addingTimeInterval(holdTimeout)
                ),
                at: instant,
                actor: Actor.system.reference,
                memo: "Hold for a call from \(caller)"
            )
        }
        let ledgerStore = ledgerStore
        let stored = call
        let placed: Bool
        do {
            placed = try await database.unitOfWork { work in
                if let request {
                    guard case .success = try await ledgerStore.apply([request], in: work).first else { return false }
                }
                try await CallStore.insert([stored], in: work)
                return true
            }
        } catch {
            // The provider asked twice at once: the other request recorded the call.
            guard let existing = try await calls.call(byProviderID: providerID) else { throw error }
            return try await instructions(for: existing, forwardingIndex: 0)
        }
        if !placed {
            // The balance moved between the read and the hold: take the call free, to voicemail.
            call.holdID = nil
            call.credits = .zero
            call.timeLimit = 0
            call.transcribe = false
            call.note = "There were not enough credits to forward the call."
            try await database.unitOfWork { [call] work in
                try await CallStore.insert([call], in: work)
            }
        }
        return try await instructions(for: call, forwardingIndex: 0)
    }

    /// Ring the forwarding number(s) from `forwardingIndex` on, or take a voicemail.
    func instructions(for call: Call, forwardingIndex: Int) async throws -> [TwiML.Verb] {
        let forwarding =
            try await calls.forwarding(of: call.organizationID) ?? .off(greeting: VoiceService.defaultGreeting)
        if call.timeLimit > 0, forwardingIndex < forwarding.numbers.count {
            let numbers =
                forwarding.ringMode == .simultaneous ? forwarding.numbers : [forwarding.numbers[forwardingIndex]]
            return [
                .dial(
                    numbers: numbers,
                    callerID: nil,
                    timeout: forwarding.ringSeconds,
                    timeLimit: call.timeLimit,
                    action: url("dialed", call: call.id, extra: "&next=\(forwardingIndex + numbers.count)")
                ),
                .hangup,
            ]
        }
        // After ringing, what is left of the minutes held (a call taken straight to voicemail
        // pays for the voicemail alone, so it may record the longest).
        let seconds =
            call.timeLimit > 0
            ? min(CallForwarding.voicemailSecondsMax, max(10, call.timeLimit - 10)) : CallForwarding.voicemailSecondsMax
        let instant = now()
        try await database.unitOfWork { work in try await CallStore.expectRecording(call.id, at: instant, in: work) }
        return [
            .say(forwarding.greeting, voice: nil, language: nil),
            .record(
                maxLength: seconds,
                action: url("recorded", call: call.id),
                transcribeCallback: call.transcribe ? url("transcribed", call: call.id) : nil
            ),
            .hangup,
        ]
    }

    /// The dial ended: a click-to-call notes the connected minutes; a forwarded call that nobody
    /// answered rings the next number or goes to voicemail.
    public func dialed(callID: String, providerID: String, status: CallStatus?, duration: Int?, next: Int) async throws
        -> [TwiML.Verb]
    {
        guard let call = try await calls.call(callID) else { return Self.goodbye }
        // Whatever the word for it, a dial that lasted was connected for that long.
        let connected = [CallStatus.completed, .inProgress].contains(status) ? (duration ?? 0) : 0
        if connected > 0 || call.kind == .outgoing {
            try await settlement.apply(
                CallReport(
                    callID: call.id,
                    providerID: providerID,
                    status: nil,
                    connectedDuration: connected
                )
            )
        }
        guard call.kind == .forwarded, connected == 0 else { return Self.goodbye }
        return try await instructions(for: call, forwardingIndex: max(0, next))
    }

    /// The caller left a voicemail: fetched from the provider and kept as media.
    public func recorded(callID: String, recordingURL: String, seconds: Int) async throws -> [TwiML.Verb] {
        // Noted first, so the call's end (often reported at the same moment) does not settle it
        // without the voicemail; then fetched — or fetched again by `retryRecordings` later.
        let instant = now()
        guard
            let call = try await database.unitOfWork({ work in
                try await CallStore.recording(callID, url: recordingURL, seconds: seconds, at: instant, in: work)
            }), call.voicemailMedia == nil
        else { return Self.goodbye }
        try await fetchRecording(call)
        return [.say("Thank you. Goodbye.", voice: nil, language: nil), .hangup]
    }

    /// Fetches a noted recording from the provider and keeps it as the call's voicemail; false
    /// when the provider did not give it (yet).
    @discardableResult
    func fetchRecording(_ call: Call) async throws -> Bool {
        guard let url = call.recordingURL else { return false }
        let bytes: [UInt8]
        do {
            bytes = try await provider.fetchMedia(url)
        } catch {
            logger.warning("voicemail not fetched yet", metadata: ["call": "\(call.id)", "error": "\(error)"])
            return false
        }
        let kept = try await media.keepReceived(Data(bytes), organization: call.organizationID)
        try await settlement.voicemail(call.id, media: kept.id, seconds: call.voicemailSeconds ?? 0)
        return true
    }

    /// Final calls still waiting, a minute after they were last touched: a recording is fetched
    /// again (given up after ten minutes, noted), a voicemail never left stops being waited for, and
    /// a click-to-call whose dial result never came is settled as not connected. Each then settles.
    @discardableResult
    public func settleStragglers(limit: Int = 100) async throws -> Int {
        let instant = now()
        let waiting = try await calls.stragglers(before: instant.addingTimeInterval(-60), limit: limit)
        for call in waiting {
            if call.awaitsRecording {
                if call.recordingURL != nil {
                    if try await fetchRecording(call) { continue }
                    guard call.updatedAt < instant.addingTimeInterval(-600) else { continue }
                }
                try await settlement.noRecording(
                    call.id,
                    reason: call.recordingURL == nil ? nil : "The voicemail could not be fetched from the provider."
                )
            } else if call.awaitsDial {
                try await settlement.apply(
                    CallReport(callID: call.id, providerID: call.providerID ?? "", status: nil, connectedDuration: 0)
                )
            }
        }
        return waiting.count
    }
}
