import Foundation
import Testing

@testable import CreditsCore

/// One line of `sms-segments.jsonl`: a text and what Twilio's calculator says about it.
struct SegmentVector: Decodable, CustomTestStringConvertible, Sendable {
    let text: String
    let smartEncoding: Bool
    let encoding: String
    let segments: Int
    let units: Int
    let perSegmentUnits: [Int]

    enum CodingKeys: String, CodingKey {
        case text, encoding, segments, units
        case smartEncoding = "smart_encoding"
        case perSegmentUnits = "per_segment_units"
    }

    var testDescription: String { "\(text.prefix(24).debugDescription) (\(text.unicodeScalars.count) chars)" }

    static let shared: [SegmentVector] = Fixture.lines("sms-segments.jsonl").compactMap {
        try? JSONDecoder().decode(SegmentVector.self, from: Data($0.utf8))
    }
}

@Suite struct SegmenterTests {
    @Test func theSharedVectorFileIsReadWhole() {
        #expect(SegmentVector.shared.count == Fixture.lines("sms-segments.jsonl").count)
        #expect(SegmentVector.shared.count >= 50)
    }

    @Test(arguments: SegmentVector.shared)
    func segmentCountMatchesCarrierRules(_ vector: SegmentVector) {
        let text = vector.smartEncoding ? SmartEncoding.apply(to: vector.text).text : vector.text
        let result = Segmenter.segment(text)
        #expect(result.encoding.rawValue == vector.encoding)
        #expect(result.segments == vector.segments)
        #expect(result.units == vector.units)
        #expect(result.perSegmentUnits == vector.perSegmentUnits)
    }

    static let ownVectors: [(String, SMSEncoding, [Int])] = [
        (String(repeating: "]", count: 153), .gsm7, [152, 152, 2]),
        (String(repeating: "😀", count: 67), .ucs2, [66, 66, 2]),
        (String(repeating: "a", count: 160), .gsm7, [160]),
        (String(repeating: "a", count: 306), .gsm7, [153, 153]),
        ("\u{0C}", .gsm7, [2]),
        ("€", .gsm7, [2]),
        ("Ça coûte 5€", .ucs2, [11]),
        ("ΔΦΓΛΩΠΨΣΘΞ ÆæßÉ ¡¿ §", .gsm7, [20]),
        ("`", .ucs2, [1]),
        (String(repeating: "a", count: 152) + "\r\n" + String(repeating: "b", count: 10), .gsm7, [152, 12]),
    ]

    @Test(arguments: ownVectors)
    func packingNeverSplitsAnEscapePairOrACluster(_ text: String, _ encoding: SMSEncoding, _ units: [Int]) {
        let result = Segmenter.segment(text)
        #expect(result.encoding == encoding)
        #expect(result.perSegmentUnits == units)
        #expect(result.units == units.reduce(0, +))
    }

    @Test func charactersThatForceUCS2AreNamedWithTheirPositions() {
        let result = Segmenter.segment("Hi 😀 it’s é\u{301}")
        #expect(result.forcingCharacters.map(\.character) == ["😀", "’", "é\u{301}"])
        #expect(result.forcingCharacters.map(\.index) == [3, 7, 10])
        #expect(result.forcingCharacters.map(\.utf16Offset) == [3, 8, 11])
    }

    @Test func aGSMTextNamesNoForcingCharacters() {
        #expect(Segmenter.segment("Hello {world} €5").forcingCharacters.isEmpty)
    }

    @Test func aClusterLongerThanASegmentIsSplitAtScalars() {
        let zalgo = "a" + String(repeating: "\u{301}", count: 100)
        let result = Segmenter.segment(zalgo)
        #expect(result.units == 101)
        #expect(result.perSegmentUnits == [67, 34])
    }
}

@Suite struct UCS2PackingTests {
    /// Pieces that stress grapheme breaking: joiner sequences, flags, skin tones, combining
    /// marks, Hangul jamo, CR LF, keycaps, Indic prepend and spacing marks.
    static let pieces = [
        "a", "b ", "😀", "👨‍👩‍👧", "🇦🇺", "🇮🇹🇫🇷", "👍🏽", "é", "e\u{301}", "\u{301}", "\r\n", "\r", "\n",
        "한", "\u{1100}\u{1161}\u{11A8}", "1️⃣", "©", "\u{200D}", "\u{200D}©", "中文", "ष्", "\u{0D4E}ക", "’", "{", "€",
        "\u{FE0F}", "Hello there, see you at 5pm. ", "`", "\u{C}", "[x]",
    ]

    @Test(arguments: 0..<200)
    func theFastPathAgreesWithTheReferenceImplementation(_ seed: Int) {
        var random = SeededGenerator(seed: UInt64(seed))
        var text = ""
        let length = Int.random(in: 1...120, using: &random)
        for _ in 0..<length {
            text += UCS2PackingTests.pieces[Int.random(in: 0..<UCS2PackingTests.pieces.count, using: &random)]
        }
        guard !GSM7.canEncode(text) else { return }
        let fast = Segmenter.ucs2FastPacking(of: text)
        let reference = Segmenter.ucs2Packing(of: text)
        #expect(fast == reference, "\(text.debugDescription)")
    }
}

/// GSM-7 packing, runs of plain characters included, against a packer that takes one Character at a time.
@Suite struct GSMPackingTests {
    static let pieces = [
        "a", "Hello there, see you at 5pm. ", "[", "]", "€", "é", "Ñ", "\r\n", "\r", "\n", "\u{C}", "^", "{x}", " ",
        String(repeating: "b", count: 150),
    ]

    /// Greedy packing by Character: a character costs its scalars' septets; none straddles two segments.
    static func reference(_ text: String) -> Segmentation {
        var packed: [Int] = []
        var current = 0
        var total = 0
        for character in text {
            let units = character.unicodeScalars.reduce(0) { $0 + GSM7.septets($1) }
            total += units
            if current + units > 153 {
                packed.append(current)
                current = 0
            }
            current += units
        }
        if total <= 160 {
            return Segmentation(
                encoding: .gsm7,
                units: total,
                perSegmentUnits: total == 0 ? [] : [total],
                forcingCharacters: []
            )
        }
        packed.append(current)
        return Segmentation(encoding: .gsm7, units: total, perSegmentUnits: packed, forcingCharacters: [])
    }

    @Test(arguments: 0..<300)
    func runsPackAsOneCharacterAtATime(_ seed: Int) {
        var random = SeededGenerator(seed: UInt64(seed) + 1_000)
        var text = ""
        for _ in 0..<Int.random(in: 1...40, using: &random) {
            text += GSMPackingTests.pieces[Int.random(in: 0..<GSMPackingTests.pieces.count, using: &random)]
        }
        #expect(Segmenter.segment(text) == GSMPackingTests.reference(text), "\(text.debugDescription)")
    }
}
