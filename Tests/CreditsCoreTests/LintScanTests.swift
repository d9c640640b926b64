import Testing

@testable import CreditsCore

/// The one-pass lint and the quick skips agree with the plain searches they replaced, on random
/// texts built from the pieces that make those searches hard.
@Suite struct LintScanTests {
    static let pieces = [
        "bit.ly", "BIT.LY/x", "t.co", "tinyurl.com/a?b", "goo.gl.", "-bit.ly", "bit.lyx", "xbit.ly", "s.id/",
        "(bit.ly)",
        "you must", "YOU MUST", "you mustard", "You're required to", "act now!", "final notice", "failure to comply",
        "stop", "STOP", "opt-out", "unsubscribe", "stopping", " ", "  ", "\n", "\r\n", ".", ",", "-", "/", "'", "`",
        "\t", "é", "e\u{301}", "ß", "K", "\u{212A}", "\u{130}", "😀", "👍🏽", "👨‍👩‍👧", "🇦🇺", "“", "’", "—", "\u{200B}",
        "\u{A0}", "1\u{FE0F}\u{20E3}", "a", "Z", "9", "_", "ü\u{308}", "\u{1}", "€", "[", "~",
    ]

    static func text(_ random: inout SeededGenerator) -> String {
        (0..<Int.random(in: 1...24, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    @Test func theScannerFindsWhatOneSearchPerPatternFinds() {
        var random = SeededGenerator(seed: 19)
        var scanned = 0
        for _ in 0..<20_000 {
            let text = LintScanTests.text(&random)
            let bySearch = ComplianceLint.contentMatchesBySearch(text)
            if let found = ComplianceLint.contentScanner.scan(text, limit: ComplianceLint.warningsPerRuleMax) {
                scanned += 1
                #expect(found == bySearch, "\(text.debugDescription)")
            }
            #expect(ComplianceLint.contentMatches(text) == bySearch)
            let lower = text.lowercased()
            let optOut = ComplianceLint.optOutInstructionWords.contains {
                TextSearch.wholeWordRanges(of: $0, in: lower).first != nil
            }
            #expect(ComplianceLint.hasOptOutInstruction(text) == optOut, "\(text.debugDescription)")
        }
        // Texts with the Kelvin sign or a dotted capital I go the slow way; most do not.
        #expect(scanned > 10_000)
    }

    @Test func skippingPlainCharactersChangesNoWarning() {
        var random = SeededGenerator(seed: 20)
        for ignoresReplaceable in [false, true] {
            let lint = ComplianceLint(ignoresReplaceable: ignoresReplaceable)
            for _ in 0..<5_000 {
                let text = LintScanTests.text(&random)
                #expect(
                    lint.characterWarnings(text, part: .body, costNote: "n")
                        == lint.characterWarnings(text, part: .body, costNote: "n", skipsPlainASCII: false),
                    "\(text.debugDescription)"
                )
            }
        }
    }

    @Test func scalarCountsAndTheSeptetMasksAgreeWithTheirDefinitions() {
        var random = SeededGenerator(seed: 21)
        for _ in 0..<5_000 {
            let text = LintScanTests.text(&random)
            #expect(UTF8Scan.scalarCount(of: text) == text.unicodeScalars.count)
            #expect(UTF8Scan.scalarCount(of: text.dropFirst()) == text.dropFirst().unicodeScalars.count)
        }
        for value in UInt32(0)..<0x80 {
            #expect(GSM7.septets(ascii: value) == Int(GSM7.asciiSeptets[Int(value)]), "ASCII \(value)")
        }
    }

    @Test func smartEncodingReturnsATextWithNothingToReplaceAsItIs() {
        var random = SeededGenerator(seed: 22)
        for _ in 0..<5_000 {
            let text = LintScanTests.text(&random)
            let result = SmartEncoding.apply(to: text)
            // Replacing each recorded scalar by hand gives the same text.
            var expected = ""
            var replacements = result.replacements[...]
            for (offset, scalar) in text.unicodeScalars.enumerated() {
                if let next = replacements.first, next.index == offset {
                    expected += next.replacement
                    replacements = replacements.dropFirst()
                } else {
                    expected.unicodeScalars.append(scalar)
                }
            }
            #expect(result.text == expected)
            #expect(replacements.isEmpty)
        }
    }
}
