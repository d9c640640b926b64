import Testing

@testable import CreditsCore

@Suite struct SmartEncodingTests {
    static let replacements: [(String, String)] = [
        ("“quoted”", "\"quoted\""), ("it’s", "it's"), ("a—b–c", "a-b-c"), ("Wait…", "Wait..."),
        ("a\u{00A0}b", "a  b"), ("a\u{200B}b", "ab"), ("a\u{FEFF}b", "ab"), ("ＦＲＥＥ１", "FREE1"),
        ("½", "1/2"), ("‹x›", "<x>"), ("a\tb", "a       b"), ("• item", "- item"), ("a\u{00AD}b", "ab"),
    ]

    @Test(arguments: replacements)
    func lookAlikesBecomeGSMCharacters(_ input: String, _ expected: String) {
        let result = SmartEncoding.apply(to: input)
        #expect(result.text == expected)
        #expect(GSM7.canEncode(result.text))
        #expect(!result.replacements.isEmpty)
    }

    @Test func emojiAndTheirJoinersAreKept() {
        let family = "👨‍👩‍👧 and “x”"
        #expect(SmartEncoding.apply(to: family).text == "👨‍👩‍👧 and \"x\"")
    }

    @Test func plainGSMTextIsUntouched() {
        let result = SmartEncoding.apply(to: "Class is at 5pm. See you!")
        #expect(result.text == "Class is at 5pm. See you!")
        #expect(result.replacements.isEmpty)
    }

    @Test func replacementsRecordWhatChangedAndWhere() {
        let result = SmartEncoding.apply(to: "ok ’x")
        #expect(result.replacements == [SmartEncoding.Replacement(original: "’", replacement: "'", index: 3)])
    }
}
