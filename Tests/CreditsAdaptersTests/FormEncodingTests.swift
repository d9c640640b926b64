import CreditsAdapters
import Foundation
import Testing

/// The byte-level form codec agrees with Foundation's percent-decoding, and round-trips.
@Suite struct FormEncodingTests {
    /// Foundation's reading of one name or value, as the codec promises to match it.
    static func reference(_ raw: String) -> String {
        raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? raw
    }

    static let samples = [
        "", "a", "a+b", "%41%42", "%e2%82%ac", "%E2%82%AC+euro", "100%", "%4", "%zz", "%C3", "%C3%28", "caf%C3%A9",
        "Ça va", "😀", "%F0%9F%98%80", "a%2Bb", "%25", "+%2B+", "~-._", "x=y", "é%20",
    ]

    @Test func decodingMatchesFoundation() {
        for name in ["Body", "N%61me", "bad%"] {
            for value in FormEncodingTests.samples {
                let decoded = FormEncoding.decode("\(name)=\(value)&Other=1")
                #expect(
                    decoded == [FormEncodingTests.reference(name): FormEncodingTests.reference(value), "Other": "1"],
                    "\(name)=\(value)"
                )
            }
        }
        #expect(FormEncoding.decode("A=1&B=a+b%26c&C=&&D&A=2") == ["A": "2", "B": "a b&c", "C": "", "D": ""])
    }

    @Test func encodingEscapesAllButUnreservedASCIIAndRoundTrips() {
        #expect(
            FormEncoding.encode([("To", "+1 415"), ("Body", "Ça & 😀 = ok~")])
                == "To=%2B1%20415&Body=%C3%87a%20%26%20%F0%9F%98%80%20%3D%20ok~"
        )
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09 +%&=~-._\u{00e9}\u{20ac}😀\r\n")
        for _ in 0..<500 {
            let text = String(
                (0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            )
            #expect(FormEncoding.decode(FormEncoding.encode([("Body", text)])) == ["Body": text])
        }
    }
}
