import CreditsCore
import Foundation

/// A call to place: the provider rings `to` from `from`, asks `answerURL` what to do once
/// someone (or something) answers, ends the call at `timeLimit` seconds whatever happens, and
/// reports to `statusCallback`.
public struct OutboundCall: Sendable, Equatable {
    /// Our call id: a retry after a crash asks for the earlier call first.
    public var reference: String
    public var from: String
    public var to: String
    /// The longest the call may last (Twilio `TimeLimit`), from what its hold covers.
    public var timeLimit: Int
    public var machineDetection: MachineDetection
    /// Where the provider fetches the call's instructions (TwiML), signed.
    public var answerURL: String
    /// Where the provider reports the call's progress (signed).
    public var statusCallback: String
    /// How long the message plays (the Simulator keeps a broadcast's call that long).
    public var expectedSeconds: Int
    public var isRetry: Bool
    /// When our call was queued: a retry adopts only a provider call created after it.
    public var queuedAt: Date

    public init(
        reference: String,
        from: String,
        to: String,
        timeLimit: Int,
        machineDetection: MachineDetection,
        answerURL: String,
        statusCallback: String,
        expectedSeconds: Int,
        isRetry: Bool = false,
        queuedAt: Date
    ) {
        self.queuedAt = queuedAt
        self.reference = reference
        self.from = from
        self.to = to
        self.timeLimit = timeLimit
        self.machineDetection = machineDetection
        self.answerURL = answerURL
        self.statusCallback = statusCallback
        self.expectedSeconds = expectedSeconds
        self.isRetry = isRetry
    }

    /// Twilio's `MachineDetection` value: wait for the beep to leave a message, or decide quickly
    /// to hang up; nil when detection is off.
    public var twilioMachineDetection: String? {
        switch machineDetection {
        case .off: nil
        case .leaveMessage: "DetectMessageEnd"
        case .hangUp: "Enable"
        }
    }

    /// The call progress events asked for.
    public static let statusEvents = ["initiated", "ringing", "answered", "completed"]
}

/// The longest a call can be said to last (a day): durations from outside are range-checked.
public enum CallDurations {
    public static let range = 0...86_400

    /// A duration in seconds from a webhook, or nil when it is missing, not a number or out of range.
    public static func parse(_ text: String?) -> Int? {
        guard let text, let value = Int(text), range.contains(value) else { return nil }
        return value
    }
}

extension WebhookParameters {
    /// A call's progress (Twilio's `CallStatus` callback), or nil when the parameters are not one
    /// or carry a duration out of range.
    public static func callStatus(_ parameters: [String: String]) -> (
        providerID: String, status: CallStatus, duration: Int?, answeredBy: AnsweredBy?
    )? {
        guard let id = parameters["CallSid"], !id.isEmpty, let text = parameters["CallStatus"] else { return nil }
        let durationText = parameters["CallDuration"].flatMap { $0.isEmpty ? nil : $0 }
        let duration = CallDurations.parse(durationText)
        guard durationText == nil || duration != nil else { return nil }
        guard let status = callStatus(text) else { return nil }
        let answered = parameters["AnsweredBy"].flatMap { $0.isEmpty ? nil : AnsweredBy(provider: $0) }
        return (id, status, duration, answered)
    }

    /// Twilio's call statuses (and `DialCallStatus`) as ours.
    public static func callStatus(_ text: String) -> CallStatus? {
        switch text.lowercased() {
        case "queued", "initiated", "ringing": .dialing
        case "in-progress", "answered": .inProgress
        case "completed": .completed
        case "busy": .busy
        case "no-answer": .noAnswer
        case "failed": .failed
        case "canceled": .canceled
        default: nil
        }
    }
}
