/// Small text searches that report Unicode-scalar ranges, shared by the lint and keyword rules.
enum TextSearch {
    /// Ranges where `needle` occurs in `haystack` as whole words (not inside a longer word).
    /// Both are expected in the same case.
    static func wholeWordRanges(of needle: String, in haystack: String) -> [TextRange] {
        ranges(of: needle, in: haystack) { before, after in
            !(before.map(isWordScalar) ?? false) && !(after.map(isWordScalar) ?? false)
        }
    }

    /// Ranges where a domain occurs as a host name, extended to the end of its URL.
    static func domainRanges(of domain: String, in haystack: String) -> [TextRange] {
        let scalars = Array(haystack.unicodeScalars)
        return ranges(of: domain, in: haystack) { before, after in
            let hostStart = before.map { !isWordScalar($0) && $0 != "-" } ?? true
            let hostEnd = after.map { $0 == "/" || $0 == "?" || $0 == "#" || (!isWordScalar($0) && $0 != "-" && $0 != ".") } ?? true
            let dottedEnd = after == "." // "bit.ly." at the end of a sentence
            return hostStart && (hostEnd || dottedEnd)
        }.map { range in
            var end = range.end
            while end < scalars.count, !scalars[end].properties.isWhitespace { end += 1 }
            while end > range.end, ".,!?)".unicodeScalars.contains(scalars[end - 1]) { end -= 1 }
            return TextRange(start: range.start, end: end)
        }
    }

    /// All ranges of `needle` in `haystack` accepted by `boundary(before, after)`.
    static func ranges(of needle: String, in haystack: String,
                       boundary: (Unicode.Scalar?, Unicode.Scalar?) -> Bool) -> [TextRange] {
        let text = Array(haystack.unicodeScalars)
        let pattern = Array(needle.unicodeScalars)
        guard !pattern.isEmpty, pattern.count <= text.count else { return [] }
        var found: [TextRange] = []
        var start = 0
        while start + pattern.count <= text.count {
            if text[start] == pattern[0], Array(text[start..<start + pattern.count]) == pattern {
                let before = start > 0 ? text[start - 1] : nil
                let after = start + pattern.count < text.count ? text[start + pattern.count] : nil
                if boundary(before, after) {
                    found.append(TextRange(start: start, end: start + pattern.count))
                    start += pattern.count
                    continue
                }
            }
            start += 1
        }
        return found
    }

    /// Letters, digits and the underscore belong to words.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "_"
    }
}
