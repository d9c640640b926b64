/// The character encoding a message travels in.
public enum SMSEncoding: String, Sendable, Codable, Equatable {
    /// The 7-bit GSM 03.38 alphabet: 160 septets in one segment, 153 per concatenated segment.
    case gsm7 = "GSM-7"
    /// UCS-2 (UTF-16 units on the wire): 70 units in one segment, 67 per concatenated segment.
    case ucs2 = "UCS-2"

    /// Units that fit in a message sent as a single segment.
    public var singleSegmentUnits: Int { self == .gsm7 ? 160 : 70 }
    /// Units that fit in each part of a concatenated message (the rest holds the UDH).
    public var concatenatedSegmentUnits: Int { self == .gsm7 ? 153 : 67 }
}

/// A character of the text that is not in the GSM-7 alphabet and therefore forced UCS-2.
public struct ForcingCharacter: Sendable, Equatable, Codable {
    /// The whole character (grapheme cluster) as the sender sees it.
    public var character: String
    /// Offset of its first Unicode scalar in the text (the unit body length is counted in).
    public var index: Int
    /// Offset of its first UTF-16 unit, for editors that address text in UTF-16.
    public var utf16Offset: Int

    /// Records one forcing character at its position.
    public init(character: String, index: Int, utf16Offset: Int) {
        self.character = character
        self.index = index
        self.utf16Offset = utf16Offset
    }

    enum CodingKeys: String, CodingKey {
        case character, index
        case utf16Offset = "utf16_offset"
    }
}

/// How a text is split into SMS segments, as carriers and Twilio bill it.
public struct Segmentation: Sendable, Equatable {
    /// GSM-7 when every character is in the GSM alphabet, otherwise UCS-2.
    public var encoding: SMSEncoding
    /// Septets (GSM-7) or UTF-16 units (UCS-2) of the whole text.
    public var units: Int
    /// Units carried by each segment, in order.
    public var perSegmentUnits: [Int]
    /// The characters that forced UCS-2 (empty for GSM-7), in text order.
    public var forcingCharacters: [ForcingCharacter]

    /// Number of segments the carrier bills.
    public var segments: Int { perSegmentUnits.count }
}
