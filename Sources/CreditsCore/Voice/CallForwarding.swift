import Foundation

/// How an organisation's numbers answer calls: ring its forwarding numbers (one after another or
/// all together, each for `ringSeconds`) inside `hours`; otherwise, or unanswered, play the
/// greeting and record a voicemail, transcribed if asked.
public struct CallForwarding: Sendable, Equatable, Codable {
    public enum RingMode: String, Sendable, Codable, CaseIterable {
        case sequential
        case simultaneous
    }

    public var enabled: Bool
    public var numbers: [String]
    public var ringMode: RingMode
    public var ringSeconds: Int
    /// When calls are forwarded; nil = always.
    public var hours: SendingHours?
    public var greeting: String
    public var transcribe: Bool

    enum CodingKeys: String, CodingKey {
        case enabled, numbers, hours, greeting, transcribe
        case ringMode = "ring_mode"
        case ringSeconds = "ring_seconds"
    }

    public init(
        enabled: Bool,
        numbers: [String],
        ringMode: RingMode,
        ringSeconds: Int,
        hours: SendingHours?,
        greeting: String,
        transcribe: Bool
    ) {
        self.enabled = enabled
        self.numbers = numbers
        self.ringMode = ringMode
        self.ringSeconds = ringSeconds
        self.hours = hours
        self.greeting = greeting
        self.transcribe = transcribe
    }

    /// Until an organisation sets it: nothing forwarded, every call goes to voicemail.
    public static func off(greeting: String) -> CallForwarding {
        CallForwarding(
            enabled: false,
            numbers: [],
            ringMode: .sequential,
            ringSeconds: 20,
            hours: nil,
            greeting: greeting,
            transcribe: false
        )
    }

    public static let forwardingNumbersMax = 5
    public static let ringSecondsRange = 5...60
    public static let greetingLengthMax = 500
    /// The longest voicemail recorded.
    public static let voicemailSecondsMax = 120

    /// Why a call is not forwarded now, or nil when it is.
    public func skipReason(at instant: Date) -> String? {
        if !enabled { return "Call forwarding is off." }
        if numbers.isEmpty { return "No forwarding number is set." }
        if let hours, !hours.evaluate(at: instant).isOpen { return "The call came outside forwarding hours." }
        return nil
    }
}
