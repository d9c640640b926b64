/// Small text searches that report Unicode-scalar ranges, shared by the lint and keyword rules.
///
/// Needles are ASCII (keywords, phrases, domains), so the search runs over UTF-8 bytes and only
/// a match pays for converting its byte offset to a scalar offset. A byte of a non-ASCII scalar
/// counts as a word character (almost all of them are letters).
enum TextSearch {
    /// Ranges where `needle` occurs in `haystack` as whole words (not inside a longer word).
    /// Both are expected in the same case.
    static func wholeWordRanges(of needle: String, in haystack: String) -> [TextRange] {
        ranges(of: needle, in: haystack) { before, after in
            !(before.map(isWordByte) ?? false) && !(after.map(isWordByte) ?? false)
        }
    }

    /// Ranges where a domain occurs as a host name, extended to the end of its URL.
    static func domainRanges(of domain: String, in haystack: String) -> [TextRange] {
        let bytes = Array(haystack.utf8)
        return byteRanges(of: domain, in: bytes) { before, after in
            let hostStart = before.map { !isWordByte($0) && $0 != UInt8(ascii: "-") } ?? true
            let hostEnd =
                after.map { byte in
                    byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
                        || (!isWordByte(byte) && byte != UInt8(ascii: "-") && byte != UInt8(ascii: "."))
                } ?? true
            let dottedEnd = after == UInt8(ascii: ".")  // "bit.ly." at the end of a sentence
            return hostStart && (hostEnd || dottedEnd)
        }.map { start, end in
            TextRange(start: scalarOffset(bytes, start), end: scalarOffset(bytes, urlEnd(bytes, after: end)))
        }
    }

    /// Where the URL around a host name that ends at `hostEnd` ends: at the next space, less
    /// the punctuation of the sentence it closes.
    static func urlEnd<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, after hostEnd: Int) -> Int
    where Bytes.Index == Int {
        var stop = hostEnd
        while stop < bytes.count, !isSpaceByte(bytes[stop]) { stop += 1 }
        while stop > hostEnd, ".,!?)".utf8.contains(bytes[stop - 1]) { stop -= 1 }
        return stop
    }

    /// All scalar ranges of `needle` in `haystack` accepted by `boundary(byteBefore, byteAfter)`.
    static func ranges(of needle: String, in haystack: String, boundary: (UInt8?, UInt8?) -> Bool) -> [TextRange] {
        let bytes = Array(haystack.utf8)
        return byteRanges(of: needle, in: bytes, boundary: boundary).map {
            TextRange(start: scalarOffset(bytes, $0.start), end: scalarOffset(bytes, $0.end))
        }
    }

    /// Byte ranges of an ASCII needle, non-overlapping, left to right.
    static func byteRanges(of needle: String, in bytes: [UInt8], boundary: (UInt8?, UInt8?) -> Bool) -> [(
        start: Int, end: Int
    )] {
        let pattern = Array(needle.utf8)
        guard let first = pattern.first, pattern.count <= bytes.count else { return [] }
        var found: [(Int, Int)] = []
        var start = 0
        let last = bytes.count - pattern.count
        while start <= last {
            guard bytes[start] == first else {
                start += 1
                continue
            }
            var index = 1
            while index < pattern.count && bytes[start + index] == pattern[index] { index += 1 }
            if index == pattern.count {
                let before = start > 0 ? bytes[start - 1] : nil
                let after = start + pattern.count < bytes.count ? bytes[start + pattern.count] : nil
                if boundary(before, after) {
                    found.append((start, start + pattern.count))
                    start += pattern.count
                    continue
                }
            }
            start += 1
        }
        return found
    }

    /// Scalars before a byte offset: every byte that is not a UTF-8 continuation byte starts one.
    static func scalarOffset<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, _ byteOffset: Int) -> Int
    where Bytes.Index == Int {
        var count = 0
        for index in 0..<byteOffset where bytes[index] & 0xC0 != 0x80 { count += 1 }
        return count
    }

    /// Letters, digits, the underscore, and any byte of a non-ASCII scalar belong to words.
    static func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
            || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }

    static func isSpaceByte(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 || byte == 0x0C
    }
}
