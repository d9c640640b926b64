/// Finds many ASCII patterns in one pass over a text's UTF-8 bytes, folding ASCII letters to
/// lower case as it reads (the compliance lint's shortener domains and aggressive phrases).
///
/// Every pattern must begin where a word begins (a whole-word phrase, or a host name that no
/// letter, digit or hyphen precedes), so the scan tries patterns only at word starts, and only
/// those whose first byte matches. The result is the same as `TextSearch` run once per pattern
/// over `text.lowercased()`; a randomised test compares the two.
struct PhraseScanner: Sendable {
    /// How a match must be bounded.
    enum Kind: Sendable {
        /// Not inside a longer word (`TextSearch.wholeWordRanges`).
        case wholeWord
        /// A host name, its range extended to the end of its URL (`TextSearch.domainRanges`).
        case domain
    }

    struct Pattern: Sendable {
        var bytes: [UInt8]
        var kind: Kind
    }

    let patterns: [Pattern]
    /// For each byte, the patterns that start with it.
    let startingWith: [[Int]]
    /// Each pattern's second byte (every pattern has at least two), checked before the rest.
    let secondBytes: [UInt8]
    /// Bit n set when some pattern starts with ASCII byte n (0–63 and 64–127).
    let firstByteMask: (UInt64, UInt64)

    init(_ patterns: [(String, Kind)]) {
        self.patterns = patterns.map { Pattern(bytes: Array($0.0.utf8), kind: $0.1) }
        var table = [[Int]](repeating: [], count: 256)
        for (index, pattern) in self.patterns.enumerated() {
            precondition(
                pattern.bytes.count >= 2 && pattern.bytes.allSatisfy { $0 < 0x80 && !($0 >= 0x41 && $0 <= 0x5A) },
                "patterns are lower-case ASCII"
            )
            table[Int(pattern.bytes[0])].append(index)
        }
        startingWith = table
        secondBytes = self.patterns.map { $0.bytes[1] }
        var mask: (UInt64, UInt64) = (0, 0)
        for pattern in self.patterns {
            let first = UInt64(pattern.bytes[0])
            if first < 64 { mask.0 |= 1 << first } else { mask.1 |= 1 << (first - 64) }
        }
        firstByteMask = mask
    }

    /// The ranges of each pattern (at most `limit` each, left to right, not overlapping), or nil
    /// when the text holds a character whose lower case is ASCII or longer (the Kelvin sign, the
    /// dotted capital I): the caller then searches `text.lowercased()` the slow way.
    func scan(_ text: String, limit: Int) -> [[TextRange]]? {
        var text = text
        return text.withUTF8 { scan(bytes: $0, limit: limit) }
    }

    func scan(bytes: UnsafeBufferPointer<UInt8>, limit: Int) -> [[TextRange]]? {
        var found = [[TextRange]](repeating: [], count: patterns.count)
        var nextAllowed = [Int](repeating: 0, count: patterns.count)
        let count = bytes.count
        var previousIsWord = false
        var position = 0
        while position < count {
            let byte = bytes[position]
            if byte >= 0x80 {
                if byte == 0xC4 && position + 1 < count && bytes[position + 1] == 0xB0 { return nil }  // İ
                if byte == 0xE2 && position + 2 < count && bytes[position + 1] == 0x84 && bytes[position + 2] == 0xAA {
                    return nil  // K (Kelvin sign)
                }
                previousIsWord = true
                position += 1
                continue
            }
            let isWord = TextSearch.isWordByte(byte)
            let first = UInt64(PhraseScanner.folded(byte))
            let starts = first < 64 ? firstByteMask.0 >> first : firstByteMask.1 >> (first - 64)
            if !previousIsWord && starts & 1 == 1 && position + 1 < count {
                let candidates = startingWith[Int(first)]
                let second = PhraseScanner.folded(bytes[position + 1])
                for index in candidates
                where secondBytes[index] == second && position >= nextAllowed[index] && found[index].count < limit {
                    if let range = match(index, at: position, in: bytes) {
                        found[index].append(range)
                        nextAllowed[index] = position + patterns[index].bytes.count
                    }
                }
            }
            previousIsWord = isWord
            position += 1
        }
        return found
    }

    /// The range of pattern `index` when it matches at `start` with its bounds, else nil.
    private func match(_ index: Int, at start: Int, in bytes: UnsafeBufferPointer<UInt8>) -> TextRange? {
        let pattern = patterns[index]
        let end = start + pattern.bytes.count
        guard end <= bytes.count else { return nil }
        for offset in 1..<pattern.bytes.count where PhraseScanner.folded(bytes[start + offset]) != pattern.bytes[offset]
        {
            return nil
        }
        let before: UInt8? = start > 0 ? bytes[start - 1] : nil
        let after: UInt8? = end < bytes.count ? bytes[end] : nil
        switch pattern.kind {
        case .wholeWord:
            if let after, TextSearch.isWordByte(after) { return nil }
            return TextRange(start: TextSearch.scalarOffset(bytes, start), end: TextSearch.scalarOffset(bytes, end))
        case .domain:
            if before == UInt8(ascii: "-") { return nil }
            if let after, TextSearch.isWordByte(after) || after == UInt8(ascii: "-") { return nil }
            return TextRange(
                start: TextSearch.scalarOffset(bytes, start),
                end: TextSearch.scalarOffset(bytes, TextSearch.urlEnd(bytes, after: end))
            )
        }
    }

    @inline(__always)
    static func folded(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
}
