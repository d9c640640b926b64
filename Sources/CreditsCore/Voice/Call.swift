import Foundation

/// What a call is for, which decides its price.
public enum CallKind: String, Sendable, Codable, CaseIterable {
    /// One number of a voice broadcast: a recorded or spoken message (2 credits a started minute).
    case broadcast
    /// Click-to-call: staff are called first, then connected to the contact (2 a started minute of
    /// the connected leg).
    case outgoing
    /// A call to one of the organisation's numbers, forwarded to its staff or to voicemail (3 a
    /// started minute, +1 for a voicemail, +4 for its transcription).
    case forwarded
}

/// Where a call stands: queued → dialing → in progress → completed | no answer | busy | failed |
/// canceled. Inbound (forwarded) calls start in progress.
public enum CallStatus: String, Sendable, Codable, CaseIterable {
    case queued
    case dialing
    case inProgress = "in-progress"
    case completed
    case noAnswer = "no-answer"
    case busy
    case failed
    case canceled

    public var isFinal: Bool {
        switch self {
        case .completed, .noAnswer, .busy, .failed, .canceled: true
        case .queued, .dialing, .inProgress: false
        }
    }

    var rank: Int {
        switch self {
        case .queued: 0
        case .dialing: 1
        case .inProgress: 2
        case .completed, .noAnswer, .busy, .failed, .canceled: 3
        }
    }

    /// Whether a report of `next` moves a call that is `self` forward: reports may repeat or come
    /// out of order, and a final status is kept.
    public func accepts(_ next: CallStatus) -> Bool {
        guard !isFinal, next != self else { return false }
        return next.rank > rank
    }

    /// The word people read ("No answer").
    public var label: String {
        switch self {
        case .queued: "Queued"
        case .dialing: "Dialing"
        case .inProgress: "In progress"
        case .completed: "Completed"
        case .noAnswer: "No answer"
        case .busy: "Busy"
        case .failed: "Failed"
        case .canceled: "Canceled"
        }
    }
}

/// Who picked up, as answering-machine detection tells.
public enum AnsweredBy: String, Sendable, Codable, CaseIterable {
    case human
    case machine
    case unknown

    /// Twilio's `AnsweredBy` (`human`, `machine_start`, `machine_end_beep`, `fax`, `unknown` …).
    public init(provider value: String) {
        if value == "human" {
            self = .human
        } else if value.hasPrefix("machine") || value == "fax" {
            self = .machine
        } else {
            self = .unknown
        }
    }
}

/// What a voice broadcast does when a machine answers.
public enum MachineDetection: String, Sendable, Codable, CaseIterable {
    /// No detection: the message plays to whoever answers.
    case off
    /// Wait for the beep and leave the message.
    case leaveMessage = "leave_message"
    /// Hang up on machines.
    case hangUp = "hang_up"

    public var isOn: Bool { self != .off }
}

/// The started minutes a call is allowed: what its hold covers once the flat fees are set aside,
/// never more than `minutesMax`. The provider is told `seconds` as the call's time limit, so a
/// call cannot outspend its hold.
public struct CallAllowance: Sendable, Equatable {
    public var minutes: Int
    public var seconds: Int { minutes * 60 }

    public init(minutes: Int) { self.minutes = max(0, minutes) }

    /// The minutes `held` pays for at `perMinute` after `flat`.
    public static func covered(by held: Credits, perMinute: Credits, flat: Credits = .zero, minutesMax: Int)
        -> CallAllowance
    {
        precondition(perMinute.milli > 0, "a minute costs something")
        let left = held.milli - flat.milli
        guard left > 0 else { return CallAllowance(minutes: 0) }
        return CallAllowance(minutes: min(minutesMax, Int(left / perMinute.milli)))
    }
}

/// A call as stored: who, what it cost, and where it stands.
public struct Call: Sendable, Equatable, Codable {
    public var id: String
    public var organizationID: OrganizationID
    public var kind: CallKind
    public var broadcastID: String?
    /// Our number it comes from (outbound) or was made to (forwarded).
    public var from: String
    /// The person called (outbound) or calling (forwarded).
    public var to: String
    /// Click-to-call: the staff member's phone, rung first.
    public var staffPhone: String?
    public var status: CallStatus
    public var answeredBy: AnsweredBy?
    public var machineDetection: MachineDetection
    public var holdID: HoldID?
    /// Credits held (the estimate, or what the balance allowed).
    public var credits: Credits
    /// The time limit given to the provider, in seconds.
    public var timeLimit: Int
    /// The whole call's duration (seconds), from the final report.
    public var duration: Int?
    /// The connected leg's duration (click-to-call, forwarding), from the provider's report.
    public var connectedDuration: Int?
    public var charged: Credits?
    public var providerID: String?
    public var attempts: Int
    public var notBefore: Date
    /// Forwarding: voicemail recorded (its media id) and how long.
    public var voicemailMedia: String?
    public var voicemailSeconds: Int?
    /// Forwarding: the caller was offered voicemail; the recording (or word that there is none)
    /// is still to come. The provider's link to the recording, once it said.
    public var awaitsRecording: Bool
    public var recordingURL: String?
    /// Forwarding: transcription asked for (and paid by the hold); its text once it came.
    public var transcribe: Bool
    public var transcription: String?
    /// The person pressed 9 to stop (a broadcast's keypress opt-out).
    public var optedOut: Bool
    public var errorCode: String?
    public var errorMessage: String?
    /// Why forwarding was skipped (outside hours, no credits, nobody to ring).
    public var note: String?
    /// Who placed it (an actor reference), and their name.
    public var actor: String?
    public var actorName: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String,
        organizationID: OrganizationID,
        kind: CallKind,
        broadcastID: String? = nil,
        from: String,
        to: String,
        staffPhone: String? = nil,
        status: CallStatus,
        machineDetection: MachineDetection = .off,
        holdID: HoldID?,
        credits: Credits,
        timeLimit: Int,
        notBefore: Date,
        transcribe: Bool = false,
        note: String? = nil,
        actor: String? = nil,
        actorName: String? = nil,
        createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.kind = kind
        self.broadcastID = broadcastID
        self.from = from
        self.to = to
        self.staffPhone = staffPhone
        self.status = status
        self.answeredBy = nil
        self.machineDetection = machineDetection
        self.holdID = holdID
        self.credits = credits
        self.timeLimit = timeLimit
        self.duration = nil
        self.connectedDuration = nil
        self.charged = nil
        self.providerID = nil
        self.attempts = 0
        self.notBefore = notBefore
        self.voicemailMedia = nil
        self.voicemailSeconds = nil
        self.awaitsRecording = false
        self.recordingURL = nil
        self.transcribe = transcribe
        self.transcription = nil
        self.optedOut = false
        self.errorCode = nil
        self.errorMessage = nil
        self.note = note
        self.actor = actor
        self.actorName = actorName
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// A forwarded call waits for its voicemail's transcription before it settles.
    public var awaitsTranscription: Bool {
        kind == .forwarded && transcribe && voicemailMedia != nil && transcription == nil
    }

    /// A click-to-call that was answered waits for the result of its dial (the connected minutes,
    /// which are what it costs) before it settles.
    public var awaitsDial: Bool { kind == .outgoing && status == .completed && connectedDuration == nil }

    /// Final and nothing more to come: its hold can settle.
    public var isSettleable: Bool { status.isFinal && !awaitsRecording && !awaitsTranscription && !awaitsDial }
}

/// What calls cost (DESIGN §3, the seed's voice prices). Only a call someone or something
/// answered costs anything; the charge is never more than was held.
public enum CallCharge {
    public static func credits(for call: Call, prices: PriceList) -> Credits {
        let price: Credits
        switch call.kind {
        case .broadcast:
            guard call.status == .completed else { return .zero }
            price = prices.voiceBroadcast(seconds: call.duration ?? 0, machineDetection: call.machineDetection.isOn)
        case .outgoing:
            guard call.status == .completed else { return .zero }
            price = prices.outgoingCall(seconds: call.connectedDuration ?? 0)
        case .forwarded:
            guard call.status == .completed else { return .zero }
            // The call's minutes are charged when it was forwarded (the number rang someone);
            // a call taken straight to voicemail pays for the voicemail alone.
            price = prices.forwardedCall(
                seconds: call.timeLimit > 0 ? (call.duration ?? 0) : 0,
                voicemail: call.voicemailMedia != nil,
                transcribed: call.transcription != nil
            )
        }
        return min(price, call.credits)
    }
}
