import Testing

@testable import CreditsCore

@Suite struct PhoneNumberTests {
    static let valid: [(String, Country, String, Country)] = [
        ("(415) 555-2671", .us, "+14155552671", .us),
        ("415.555.2671", .us, "+14155552671", .us),
        ("1 415 555 2671", .us, "+14155552671", .us),
        ("+1 (416) 555-0199", .gb, "+14165550199", .ca),
        ("011 44 7700 900123", .us, "+447700900123", .gb),
        ("0412 345 678", .au, "+61412345678", .au),
        ("+61 2 9374 4000", .us, "+61293744000", .au),
        ("0011 61 412 345 678", .au, "+61412345678", .au),
        ("021 123 4567", .nz, "+64211234567", .nz),
        ("+64 9 123 4567", .us, "+6491234567", .nz),
        ("07700 900123", .gb, "+447700900123", .gb),
        ("+44 (0)20 7946 0958", .us, "+442079460958", .gb),
        ("0044 20 7946 0958", .gb, "+442079460958", .gb),
        ("(604) 555-0142", .ca, "+16045550142", .ca),
    ]

    @Test(arguments: valid)
    func nationalAndInternationalStylesNormaliseToE164(
        _ input: String,
        _ country: Country,
        _ e164: String,
        _ owner: Country
    ) throws {
        let number = try PhoneNumber(parsing: input, defaultCountry: country)
        #expect(number.e164 == e164)
        #expect(number.country == owner)
    }

    static let invalid: [(String, Country, PhoneNumberError)] = [
        ("", .us, .empty),
        ("415-555-267", .us, .tooShort),
        ("415-555-26711", .us, .tooLong),
        ("(115) 555-2671", .us, .invalidAreaCode("115")),
        ("(911) 555-2671", .us, .invalidAreaCode("911")),
        ("+33 1 23 45 67 89", .us, .unsupportedCountry(callingCode: "331")),
        ("call me", .us, .invalidCharacter("c")),
        ("0612 345 678", .au, .invalidNumber("Australian numbers start with 02, 03, 04, 07 or 08")),
        ("07700 90012", .gb, .tooShort),
    ]

    @Test(arguments: invalid)
    func invalidNumbersAreRefusedWithAReason(_ input: String, _ country: Country, _ error: PhoneNumberError) {
        #expect(throws: error) { try PhoneNumber(parsing: input, defaultCountry: country) }
    }

    @Test func e164RoundTrips() {
        #expect(PhoneNumber(e164: "+14155552671")?.country == .us)
        #expect(PhoneNumber(e164: "4155552671") == nil)
    }
}
