import Testing

@testable import CreditsStore

/// The hand-written SQL literals of the SQLite bulk path must never change a statement's meaning.
@Suite struct BulkRowsTests {
    func literal(_ cell: SQLCell) -> String {
        var bytes: [UInt8] = []
        SQLiteLiteral.append(cell, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func textIsQuotedWithEveryQuoteDoubled() {
        #expect(literal(.text("O'Brien's")) == "'O''Brien''s'")
        #expect(literal(.text("'); DROP TABLE ledger_entries; --")) == "'''); DROP TABLE ledger_entries; --'")
        #expect(literal(.text("😀 \\ \" \n")) == "'😀 \\ \" \n'")
    }

    @Test func textWithANulCharacterBecomesAHexBlob() {
        #expect(literal(.text("a\u{0}b")) == "CAST(X'610062' AS TEXT)")
    }

    @Test func numbersAndNullsAreBare() {
        #expect(literal(.int(-42)) == "-42")
        #expect(literal(.null) == "NULL")
    }

    @Test func rowsSplitIntoStatementsOfAtMostTheLimitWithNoneLeftOut() {
        let size = BulkRows.rowsPerStatementMax
        #expect(BulkRows.chunkRanges(0).isEmpty)
        #expect(BulkRows.chunkRanges(1) == [0..<1])
        #expect(BulkRows.chunkRanges(size) == [0..<size])
        #expect(BulkRows.chunkRanges(size + 1) == [0..<size, size..<size + 1])
        #expect(BulkRows.chunkRanges(size * 3) == [0..<size, size..<size * 2, size * 2..<size * 3])
    }
}
