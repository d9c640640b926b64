import Testing

@testable import CreditsCore

@Suite struct ComplianceLintTests {
    let lint = ComplianceLint(businessName: "Bright Stars Gym")

    func codes(header: String = "Bright Stars Gym", body: String, footer: String = "Reply STOP to opt out")
        -> [LintCode]
    {
        lint.warnings(header: header, body: body, footer: footer, costNote: nil).map(\.code)
    }

    @Test func aCleanMessageHasNoWarnings() {
        #expect(codes(body: "Classes resume Monday at 4pm.") == [])
    }

    @Test func aHeaderWithoutTheBusinessNameWarns() {
        #expect(codes(header: "", body: "Hello") == [.headerMissingBusinessName])
        #expect(codes(header: "Hi there", body: "Hello") == [.headerMissingBusinessName])
    }

    @Test func aMessageWithoutOptOutInstructionsWarns() {
        #expect(codes(body: "Hello", footer: "") == [.footerMissingOptOut])
        #expect(codes(body: "Hello. Reply STOP to end.", footer: "") == [])
    }

    @Test(arguments: ["see bit.ly/abc", "https://tinyurl.com/x2", "Go to goo.gl/maps now"])
    func urlShortenersWarnWithTheirRange(_ body: String) {
        let warnings = lint.warnings(header: "Bright Stars Gym", body: body, footer: "STOP to opt out", costNote: nil)
        let warning = warnings.first { $0.code == .urlShortener }
        #expect(warning != nil)
        #expect(warning?.part == .body)
        if let range = warning?.range {
            let scalars = Array(body.unicodeScalars)[range.start..<range.end]
            #expect(!String(String.UnicodeScalarView(scalars)).contains(" "))
        }
    }

    @Test func aDomainThatMerelyEndsLikeAShortenerIsFine() {
        #expect(!codes(body: "Visit rabbit.lyons.example.com").contains(.urlShortener))
    }

    @Test(arguments: ["You must pay today.", "you are required to attend"])
    func aggressivePhrasingWarns(_ body: String) {
        #expect(codes(body: body) == [.aggressiveLanguage])
    }

    @Test func heavyCapitalsWarn() {
        #expect(codes(body: "CLASS IS CANCELED TODAY DUE TO SNOW") == [.excessiveCapitals])
        #expect(codes(body: "Class is canceled (USA time)") == [])
    }

    @Test func emojiAndNonGSMCharactersWarnWithTheirCost() {
        let warnings = lint.warnings(
            header: "Bright Stars Gym",
            body: "Great job 🎉 on the “show”",
            footer: "STOP to opt out",
            costNote: "This message costs 2 credits per recipient instead of 1."
        )
        #expect(warnings.map(\.code) == [.emoji, .nonGSMCharacter, .nonGSMCharacter])
        #expect(warnings[0].range == TextRange(start: 10, end: 11))
        #expect(warnings[0].message.contains("2 credits per recipient instead of 1"))
    }

    @Test func hiddenFormattingCharactersWarn() {
        let warnings = lint.warnings(
            header: "Bright Stars Gym",
            body: "See\u{200B} you\u{00A0}soon",
            footer: "STOP",
            costNote: nil
        )
        #expect(warnings.map(\.code) == [.hiddenFormatting, .hiddenFormatting])
        #expect(warnings.map(\.range) == [TextRange(start: 3, end: 4), TextRange(start: 8, end: 9)])
    }

    @Test func everyCodeIsStable() {
        #expect(
            LintCode.allCases.map(\.rawValue) == [
                "header_missing_business_name", "footer_missing_opt_out", "url_shortener", "aggressive_language",
                "excessive_capitals", "emoji", "non_gsm_character", "hidden_formatting", "long_message",
            ]
        )
    }
}
