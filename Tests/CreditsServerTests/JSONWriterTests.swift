import CreditsCore
import Foundation
import Testing

@testable import CreditsServer

/// The hand-written estimate JSON is the same document JSONEncoder writes.
@Suite struct JSONWriterTests {
    static let bodies = [
        "Hello World", "Hi 😀 it’s “quoted”\n\ttab \\ / \u{1} \u{8} \u{C}", String(repeating: "]", count: 200),
        "Visit bit.ly/x — YOU MUST PAY NOW", "a\u{200B}b\u{00A0}c", "Ça coûte 5€ 🇦🇺 👨‍👩‍👧",
    ]

    @Test(arguments: bodies, [false, true])
    func theWriterMatchesJSONEncoder(_ body: String, _ smart: Bool) throws {
        let options = EstimateOptions(
            smartEncoding: smart,
            composition: Composition(header: "Gym", footer: ""),
            businessName: "Bright Stars Gym"
        )
        let estimate = try Estimator.estimate(body: body, options: options)
        let written = try JSONSerialization.jsonObject(with: Data(estimate.jsonBytes())) as? NSDictionary
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder.api.encode(estimate)) as? NSDictionary
        #expect(written != nil)
        #expect(written == encoded)
    }
}
