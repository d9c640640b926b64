import CreditsCore
import CreditsStore
import Foundation

/// Text read aloud by the provider's text-to-speech.
public struct SayInput: Codable, Sendable, Equatable {
    public var text: String
    public var voice: String?
    public var language: String?

    public init(text: String, voice: String? = nil, language: String? = nil) {
        self.text = text
        self.voice = voice
        self.language = language
    }
}

/// `POST /v1/voice/broadcasts` (and `/estimate`): a recorded or spoken message to groups,
/// contacts or numbers.
public struct BroadcastInput: APIInput, Sendable {
    public var to: [String]?
    public var contacts: [String]?
    public var groups: [String]?
    /// A media id (`POST /v1/media`) of a WAV or MP3 file.
    public var audio: String?
    public var say: SayInput?
    public var machineDetection: MachineDetection?
    public var sendAt: Date?
    public var overrideSendingHours: Bool?
    public var from: String?

    enum CodingKeys: String, CodingKey {
        case to, contacts, groups, audio, say, from
        case machineDetection = "machine_detection"
        case sendAt = "send_at"
        case overrideSendingHours = "override_sending_hours"
    }

    public static let fields = JSONFields([
        "to", "contacts", "groups", "audio", "say", "machine_detection", "send_at", "override_sending_hours", "from",
    ])

    public init(
        to: [String]? = nil,
        contacts: [String]? = nil,
        groups: [String]? = nil,
        audio: String? = nil,
        say: SayInput? = nil,
        machineDetection: MachineDetection? = nil,
        sendAt: Date? = nil,
        overrideSendingHours: Bool? = nil
    ) {
        self.to = to
        self.contacts = contacts
        self.groups = groups
        self.audio = audio
        self.say = say
        self.machineDetection = machineDetection
        self.sendAt = sendAt
        self.overrideSendingHours = overrideSendingHours
    }
}

/// `POST /v1/calls`: click-to-call a contact or a number; `staff` is the phone rung first (the
/// caller's own; by default the one they were rung on last time).
public struct CallInput: APIInput, Sendable {
    public var contact: String?
    public var to: String?
    public var staff: String?
    public var from: String?

    public static let fields = JSONFields(["contact", "to", "staff", "from"])

    public init(contact: String? = nil, to: String? = nil, staff: String? = nil) {
        self.contact = contact
        self.to = to
        self.staff = staff
    }
}

/// `PUT /v1/organization/call-forwarding`.
public struct ForwardingInput: APIInput, Sendable {
    public var enabled: Bool
    public var numbers: [String]?
    public var ringMode: CallForwarding.RingMode?
    public var ringSeconds: Int?
    public var hours: SendingHours?
    public var greeting: String?
    public var transcribe: Bool?

    enum CodingKeys: String, CodingKey {
        case enabled, numbers, hours, greeting, transcribe
        case ringMode = "ring_mode"
        case ringSeconds = "ring_seconds"
    }

    public static let fields = JSONFields([
        "enabled", "numbers", "ring_mode", "ring_seconds", "hours", "greeting", "transcribe",
    ])

    public init(
        enabled: Bool,
        numbers: [String]? = nil,
        ringMode: CallForwarding.RingMode? = nil,
        ringSeconds: Int? = nil,
        hours: SendingHours? = nil,
        greeting: String? = nil,
        transcribe: Bool? = nil
    ) {
        self.enabled = enabled
        self.numbers = numbers
        self.ringMode = ringMode
        self.ringSeconds = ringSeconds
        self.hours = hours
        self.greeting = greeting
        self.transcribe = transcribe
    }
}

/// What a broadcast will cost before it is sent: the same plan the send reserves.
public struct BroadcastEstimate: Encodable, Sendable {
    public var recipients: Int
    public var skipped: [SkipReason: Int]
    public var seconds: Int
    public var minutes: Int
    public var machineDetection: MachineDetection
    public var creditsPerRecipient: Credits
    public var creditsTotal: Credits
    public var available: Credits
    public var from: String

    enum CodingKeys: String, CodingKey {
        case recipients, skipped, seconds, minutes, from, available
        case machineDetection = "machine_detection"
        case creditsPerRecipient = "credits_per_recipient"
        case creditsTotal = "credits_total"
    }
}

/// A voice broadcast as the API shows it.
public struct BroadcastView: Encodable, Sendable {
    public var id: String
    public var status: String
    public var from: String
    public var audio: String?
    public var say: SayInput?
    public var machineDetection: MachineDetection
    public var seconds: Int
    public var requested: Int
    public var accepted: Int
    public var skipped: [SkipReason: Int]
    public var creditsReserved: Credits
    public var creditsCharged: Credits
    public var calls: [String: Int]
    public var answeredByMachine: Int
    public var optedOut: Int
    public var sendAt: Date?
    public var notBefore: Date
    public var createdAt: Date
    public var createdBy: String

    enum CodingKeys: String, CodingKey {
        case id, status, from, audio, say, seconds, requested, accepted, skipped, calls
        case machineDetection = "machine_detection"
        case creditsReserved = "credits_reserved"
        case creditsCharged = "credits_charged"
        case answeredByMachine = "answered_by_machine"
        case optedOut = "opted_out"
        case sendAt = "send_at"
        case notBefore = "not_before"
        case createdAt = "created_at"
        case createdBy = "created_by"
    }

    init(_ broadcast: VoiceBroadcast, tally: CallTally, now: Date) {
        id = broadcast.id
        from = broadcast.from
        audio = broadcast.audioMedia
        say = broadcast.sayText.map { SayInput(text: $0, voice: broadcast.sayVoice, language: broadcast.sayLanguage) }
        machineDetection = broadcast.machineDetection
        seconds = broadcast.seconds
        requested = broadcast.requested
        accepted = broadcast.accepted
        skipped = broadcast.skipped
        creditsReserved = broadcast.creditsReserved
        creditsCharged = tally.charged
        var counts: [String: Int] = [:]
        for status in CallStatus.allCases { counts[status.rawValue] = tally.byStatus[status] ?? 0 }
        calls = counts
        answeredByMachine = tally.answeredByMachine
        optedOut = tally.optedOut
        sendAt = broadcast.sendAt
        notBefore = broadcast.notBefore
        createdAt = broadcast.createdAt
        createdBy = broadcast.actorName
        let open = tally.byStatus.filter { !$0.key.isFinal }.values.reduce(0, +)
        status = open == 0 ? "completed" : broadcast.notBefore > now ? "scheduled" : "calling"
    }
}

/// A call as the API shows it.
public struct CallView: Encodable, Sendable {
    public struct Voicemail: Encodable, Sendable {
        public var media: String
        public var seconds: Int
        public var transcription: String?
    }

    public var id: String
    public var kind: CallKind
    public var status: CallStatus
    public var statusLabel: String
    public var from: String
    public var to: String
    public var staffPhone: String?
    public var broadcast: String?
    public var answeredBy: AnsweredBy?
    public var timeLimit: Int
    public var duration: Int?
    public var connectedDuration: Int?
    public var creditsHeld: Credits
    public var creditsCharged: Credits?
    public var voicemail: Voicemail?
    public var optedOut: Bool
    public var note: String?
    public var error: String?
    public var createdAt: Date
    public var createdBy: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, status, from, to, broadcast, duration, voicemail, note, error
        case statusLabel = "status_label"
        case staffPhone = "staff_phone"
        case answeredBy = "answered_by"
        case timeLimit = "time_limit"
        case connectedDuration = "connected_duration"
        case creditsHeld = "credits_held"
        case creditsCharged = "credits_charged"
        case optedOut = "opted_out"
        case createdAt = "created_at"
        case createdBy = "created_by"
    }

    public init(_ call: Call) {
        id = call.id
        kind = call.kind
        status = call.status
        statusLabel = call.status.label
        from = call.from
        to = call.to
        staffPhone = call.staffPhone
        broadcast = call.broadcastID
        answeredBy = call.answeredBy
        timeLimit = call.timeLimit
        duration = call.duration
        connectedDuration = call.connectedDuration
        creditsHeld = call.credits
        creditsCharged = call.charged
        voicemail = call.voicemailMedia.map {
            Voicemail(media: $0, seconds: call.voicemailSeconds ?? 0, transcription: call.transcription)
        }
        optedOut = call.optedOut
        note = call.note
        error = [call.errorCode, call.errorMessage].compactMap { $0 }.joined(separator: ": ").nilIfEmpty
        createdAt = call.createdAt
        createdBy = call.actorName
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// Why a voice request was refused.
public enum VoiceError: DomainError, Equatable {
    /// Neither or both of audio and say.
    case messageRequired
    /// The audio is not a WAV or MP3 file whose length can be read.
    case audioUnreadable
    /// The message plays longer than a broadcast may.
    case messageTooLong(seconds: Int)
    case voiceInvalid(String)
    case languageInvalid(String)
    /// Click-to-call: no contact or number, or the staff phone is missing.
    case callTargetRequired
    case staffPhoneRequired
    /// Not even one minute fits in the credits available.
    case notEnoughForAMinute(available: Credits, perMinute: Credits)
    case forwardingNumbersRequired
    case tooManyForwardingNumbers
    case ringSecondsOutOfRange

    public var kind: RefusalKind {
        switch self {
        case .notEnoughForAMinute: .paymentRequired
        default: .invalid
        }
    }

    public var code: String {
        switch self {
        case .messageRequired: "message_required"
        case .audioUnreadable: "audio_unreadable"
        case .messageTooLong: "message_too_long"
        case .voiceInvalid, .languageInvalid, .ringSecondsOutOfRange, .tooManyForwardingNumbers: "field_invalid"
        case .callTargetRequired: "recipients_required"
        case .staffPhoneRequired: "staff_phone_required"
        case .notEnoughForAMinute: "insufficient_credits"
        case .forwardingNumbersRequired: "forwarding_numbers_required"
        }
    }

    public var message: String {
        switch self {
        case .messageRequired:
            "Give the message as audio (a WAV or MP3 media id) or as say (text read aloud), not both."
        case .audioUnreadable: "The audio must be a WAV or MP3 file whose length can be read."
        case .messageTooLong(let seconds):
            "The message plays for \(seconds) seconds; a voice broadcast may play at most \(VoiceService.messageSecondsMax / 60) minutes."
        case .voiceInvalid(let voice):
            "\(voice) is not a voice: use woman, man, alice or a Polly voice such as Polly.Joanna."
        case .languageInvalid(let language): "\(language) is not a language tag such as en-US."
        case .callTargetRequired: "Name the contact or the number to call."
        case .staffPhoneRequired: "Give the phone to ring you on first (staff)."
        case .notEnoughForAMinute(let available, let perMinute):
            "A call needs credits for at least one minute (\(perMinute) credits); \(available) are available."
        case .forwardingNumbersRequired: "Give at least one number to forward calls to, or turn forwarding off."
        case .tooManyForwardingNumbers:
            "Calls can be forwarded to at most \(CallForwarding.forwardingNumbersMax) numbers."
        case .ringSecondsOutOfRange: "ring_seconds must be between 5 and 60."
        }
    }

    public var field: String? {
        switch self {
        case .messageRequired, .messageTooLong: "say"
        case .audioUnreadable: "audio"
        case .voiceInvalid: "say.voice"
        case .languageInvalid: "say.language"
        case .callTargetRequired: "contact"
        case .staffPhoneRequired: "staff"
        case .notEnoughForAMinute: nil
        case .forwardingNumbersRequired, .tooManyForwardingNumbers: "numbers"
        case .ringSecondsOutOfRange: "ring_seconds"
        }
    }

    public var shortfall: Credits? {
        if case .notEnoughForAMinute(let available, let perMinute) = self { return perMinute - available }
        return nil
    }
}
