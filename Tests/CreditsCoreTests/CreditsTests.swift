import Foundation
import Testing

@testable import CreditsCore

@Suite struct CreditsTests {
    @Test(arguments: [("1", 1000), ("1.5", 1500), ("0.125", 125), ("-2.25", -2250), (".5", 500), ("12.000", 12000)])
    func decimalTextParsesToMilliCredits(_ text: String, _ milli: Int64) {
        #expect(Credits(decimal: text)?.milli == milli)
    }

    @Test(arguments: ["", "-", "1.2345", "1e3", "abc", "1.", "1..2", "１"])
    func malformedDecimalsAreRefused(_ text: String) {
        #expect(Credits(decimal: text) == nil)
    }

    @Test(arguments: [(1000, "1"), (1500, "1.5"), (125, "0.125"), (-2250, "-2.25"), (0, "0"), (10, "0.01")])
    func amountsPrintWithoutTrailingZeros(_ milli: Int64, _ text: String) {
        #expect(Credits(milli: milli).decimalString == text)
    }

    @Test func jsonCarriesExactDecimals() throws {
        let data = try JSONEncoder().encode(["credits": Credits(milli: 1500)])
        #expect(String(decoding: data, as: UTF8.self) == #"{"credits":1.5}"#)
        let decoded = try JSONDecoder().decode([String: Credits].self, from: Data(#"{"a": 2.125}"#.utf8))
        #expect(decoded["a"]?.milli == 2125)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([String: Credits].self, from: Data(#"{"a": 0.0001}"#.utf8))
        }
    }
}
