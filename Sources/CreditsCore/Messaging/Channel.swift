/// How an outgoing text travels, which decides its price.
public enum Channel: String, Sendable, Codable, CaseIterable {
    /// A text from a local (10DLC) number: priced per segment.
    case sms
    /// A text from a toll-free number: priced per segment at the toll-free rate.
    case tollFree = "toll-free"
    /// A picture message: one flat price per recipient whatever its length.
    case mms
}

/// Credits charged per recipient for each kind of traffic (DESIGN §3). Configurable per server;
/// the defaults are the seed's prices.
public struct PriceList: Sendable, Equatable, Codable {
    /// One SMS segment from a local number.
    public var smsSegment: Credits
    /// One SMS segment from a toll-free number.
    public var tollFreeSegment: Credits
    /// One MMS, flat.
    public var mms: Credits
    /// One inbound text (free by default).
    public var inboundText: Credits
    /// One started minute of a voice broadcast.
    public var voiceBroadcastMinute: Credits
    /// Answering-machine detection, flat per number called.
    public var machineDetection: Credits
    /// One started minute of an outgoing call.
    public var outgoingCallMinute: Credits
    /// One started minute of a forwarded call.
    public var callForwardingMinute: Credits
    /// A voicemail left on a forwarded call, flat.
    public var voicemail: Credits
    /// Transcribing a voicemail to text, flat.
    public var transcription: Credits

    /// The seed's prices: SMS 1, toll-free 1.5, MMS 2, inbound free, voice 2/min + 0.5 detection,
    /// calls 2/min, forwarding 3/min + 1 per voicemail + 4 per transcription.
    public static let standard = PriceList(
        smsSegment: Credits(milli: 1000),
        tollFreeSegment: Credits(milli: 1500),
        mms: Credits(milli: 2000),
        inboundText: .zero,
        voiceBroadcastMinute: Credits(milli: 2000),
        machineDetection: Credits(milli: 500),
        outgoingCallMinute: Credits(milli: 2000),
        callForwardingMinute: Credits(milli: 3000),
        voicemail: Credits(milli: 1000),
        transcription: Credits(milli: 4000)
    )

    /// Credits for one text to one recipient.
    public func text(channel: Channel, segments: Int) -> Credits {
        precondition(segments >= 0, "segments cannot be negative")
        switch channel {
        case .sms: return smsSegment * segments
        case .tollFree: return tollFreeSegment * segments
        case .mms: return mms
        }
    }

    /// Credits for a voice broadcast to one number: started minutes plus optional machine detection.
    public func voiceBroadcast(seconds: Int, machineDetection detection: Bool) -> Credits {
        voiceBroadcastMinute * PriceList.startedMinutes(seconds) + (detection ? machineDetection : .zero)
    }

    /// Credits for an outgoing call.
    public func outgoingCall(seconds: Int) -> Credits { outgoingCallMinute * PriceList.startedMinutes(seconds) }

    /// Credits for a forwarded call, with its voicemail and transcription if any.
    public func forwardedCall(seconds: Int, voicemail left: Bool, transcribed: Bool) -> Credits {
        callForwardingMinute * PriceList.startedMinutes(seconds)
            + (left ? voicemail : .zero) + (left && transcribed ? transcription : .zero)
    }

    /// Minutes billed for a call: every started minute counts; a call that never connected is 0.
    public static func startedMinutes(_ seconds: Int) -> Int {
        precondition(seconds >= 0, "call duration cannot be negative")
        return (seconds + 59) / 60
    }
}
