import Testing

@testable import CreditsCore

@Suite struct EstimatorTests {
    @Test func aPlainTextCostsOneCreditPerSegment() throws {
        let estimate = try Estimator.estimate(body: "Hello World", options: EstimateOptions())
        #expect(estimate.encoding == .gsm7)
        #expect(estimate.segments == 1)
        #expect(estimate.credits == Credits(credits: 1))
        #expect(estimate.warnings.isEmpty)
    }

    @Test func anEmojiDoublesTheBillAndTheWarningSaysSo() throws {
        let body = String(repeating: "a", count: 100) + " 😀"
        let estimate = try Estimator.estimate(body: body, options: EstimateOptions())
        #expect(estimate.encoding == .ucs2)
        #expect(estimate.credits == Credits(credits: 2))
        #expect(estimate.forcingCharacters.map(\.character) == ["😀"])
        #expect(estimate.warnings.first?.code == .emoji)
        #expect(estimate.warnings.first?.message.contains("costs 2 credits per recipient instead of 1") == true)
    }

    @Test func curlyQuotesExplainWhatSmartEncodingWouldSave() throws {
        let body = String(repeating: "a", count: 80) + " it’s"
        let off = try Estimator.estimate(body: body, options: EstimateOptions())
        #expect(off.credits == Credits(credits: 2))
        #expect(off.smartEncoding.creditsSaved == Credits(credits: 1))
        #expect(off.smartEncoding.replacements.first?.original == "’")
        let on = try Estimator.estimate(body: body, options: EstimateOptions(smartEncoding: true))
        #expect(on.credits == Credits(credits: 1))
        #expect(on.text.hasSuffix("it's"))
        #expect(on.smartEncoding.creditsSaved == Credits(credits: 1))
        #expect(!on.warnings.contains { $0.code == .nonGSMCharacter })
    }

    @Test func tollFreeAndMMSUseTheirPrices() throws {
        let long = String(repeating: "a", count: 200)
        #expect(
            try Estimator.estimate(body: long, options: EstimateOptions(channel: .tollFree)).credits
                == Credits(milli: 3000)
        )
        #expect(
            try Estimator.estimate(body: long, options: EstimateOptions(channel: .mms)).credits == Credits(milli: 2000)
        )
    }

    @Test func headerAndFooterAreCountedInTheEstimate() throws {
        let options = EstimateOptions(
            composition: Composition(header: "Bright Stars Gym", footer: "Reply STOP to opt out"),
            businessName: "Bright Stars Gym"
        )
        let estimate = try Estimator.estimate(body: String(repeating: "a", count: 130), options: options)
        #expect(estimate.segments == 2)
        #expect(estimate.characters == 130 + 16 + 21 + 2)
        #expect(estimate.warnings.isEmpty)
    }

    @Test func aBodyOfOnlyInvisibleCharactersIsEmptyAfterSmartEncoding() {
        #expect(throws: MessageError.bodyEmpty) {
            try Estimator.estimate(body: "\u{200B}", options: EstimateOptions(smartEncoding: true))
        }
    }

    @Test func longMessagesWarn() throws {
        let estimate = try Estimator.estimate(body: String(repeating: "a", count: 700), options: EstimateOptions())
        #expect(estimate.segments == 5)
        #expect(estimate.warnings.map(\.code) == [.longMessage])
    }
}

@Suite struct PriceTests {
    @Test(arguments: ["Hello", "Hi 😀 “x”", String(repeating: "a", count: 300), "Wait… — ok"], [false, true])
    func thePriceIsExactlyTheEstimate(_ body: String, _ smart: Bool) throws {
        let options = EstimateOptions(
            smartEncoding: smart,
            composition: Composition(header: "Gym", footer: "STOP to end")
        )
        let estimate = try Estimator.estimate(body: body, options: options)
        let price = try Estimator.price(body: body, options: options)
        #expect(price.text == estimate.text)
        #expect(price.segments == estimate.segments)
        #expect(price.credits == estimate.credits)
    }
}
