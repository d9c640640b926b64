/// Replaces look-alike characters with GSM-7 equivalents before a message is counted and sent,
/// as Twilio's Smart Encoding does (curly quotes, dashes, ellipsis, Unicode spaces, fullwidth
/// forms, invisible characters …).
///
/// Off by default per organisation; when off, the estimate still reports what it would save.
public enum SmartEncoding {
    /// One replacement made in a text.
    public struct Replacement: Sendable, Equatable, Codable {
        /// The character that was replaced.
        public var original: String
        /// What it became ("" when an invisible character was removed).
        public var replacement: String
        /// Offset of the original character in Unicode scalars.
        public var index: Int
    }

    /// The result of applying smart encoding.
    public struct Result: Sendable, Equatable {
        /// The text after replacements.
        public var text: String
        /// Each replacement, in text order.
        public var replacements: [Replacement]
    }

    /// Applies the replacements. Characters with no look-alike are kept as they are.
    public static func apply(to text: String) -> Result {
        // Fast path: nothing to do for pure GSM-7 text without tabs or control characters.
        if UTF8Scan.allBytes(
            of: text,
            {
                $0 < 0x80 && $0 != 0x09 && $0 != 0x60 && ($0 >= 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C)
            }
        ) {
            return Result(text: text, replacements: [])
        }
        // The output is only built from the first replacement on; a text with none is returned as is.
        var output: [UInt8] = []
        var replacements: [Replacement] = []
        let scalars = Array(text.unicodeScalars)
        var copiedUpTo = 0  // scalars before this offset are in `output` (once it is started)
        for (offset, scalar) in scalars.enumerated() {
            let value = scalar.value
            // Printable ASCII other than the backtick has no replacement.
            if value >= 0x20 && value < 0x7F && value != 0x60 { continue }
            if scalar == "\u{200D}", isInsideEmojiSequence(scalars, at: offset) { continue }
            guard let replacement = table[value] else { continue }
            if replacements.isEmpty { output.reserveCapacity(text.utf8.count + 16) }
            for kept in scalars[copiedUpTo..<offset] { UTF8.encode(kept) { output.append($0) } }
            output.append(contentsOf: replacement.utf8)
            copiedUpTo = offset + 1
            replacements.append(Replacement(original: String(scalar), replacement: replacement, index: offset))
        }
        if replacements.isEmpty { return Result(text: text, replacements: []) }
        for kept in scalars[copiedUpTo...] { UTF8.encode(kept) { output.append($0) } }
        return Result(text: String(decoding: output, as: UTF8.self), replacements: replacements)
    }

    /// A zero-width joiner between emoji builds one picture (👨‍👩‍👧); it stays.
    static func isInsideEmojiSequence(_ scalars: [Unicode.Scalar], at offset: Int) -> Bool {
        guard offset > 0, offset + 1 < scalars.count else { return false }
        return isEmojiPart(scalars[offset - 1]) && isEmojiPart(scalars[offset + 1])
    }

    static func isEmojiPart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\u{FE0F}" || scalar.properties.isEmojiModifier
            || (scalar.value >= 0x00A9 && scalar.properties.isEmoji)
    }

    /// Scalar value → replacement text.
    static let table: [UInt32: String] = {
        var map: [UInt32: String] = [:]
        func add(_ scalars: [UInt32], _ replacement: String) { for scalar in scalars { map[scalar] = replacement } }
        // Double quotation marks.
        add(
            [0x00AB, 0x00BB, 0x201C, 0x201D, 0x201E, 0x201F, 0x02BA, 0x02EE, 0x275D, 0x275E, 0x301D, 0x301E, 0xFF02],
            "\""
        )
        // Single quotation marks, apostrophes, primes and accents used as apostrophes.
        add(
            [
                0x2018, 0x2019, 0x201A, 0x201B, 0x02B9, 0x02BB, 0x02BC, 0x02BD, 0x02C8, 0x02CA, 0x02CB, 0x0060, 0x00B4,
                0x275B, 0x275C, 0x0313, 0x0314, 0xFE10, 0xFE11, 0xFF07, 0x2032,
            ],
            "'"
        )
        map[0x201A] = ","
        // Angle quotation marks.
        map[0x2039] = "<"
        map[0x203A] = ">"
        // Dashes and hyphens.
        add(
            [0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2043, 0x2212, 0x23BC, 0x23BD, 0xFE58, 0xFE63, 0xFF0D],
            "-"
        )
        map[0x2022] = "-"  // bullet
        map[0x2026] = "..."  // horizontal ellipsis
        map[0x203C] = "!!"  // double exclamation mark
        // Fractions and division.
        map[0x00BC] = "1/4"
        map[0x00BD] = "1/2"
        map[0x00BE] = "3/4"
        add([0x00F7, 0x2044, 0x2215, 0x29F8, 0x0337, 0x0338, 0xFF0F], "/")
        add([0x29F5, 0x29F9, 0x20E5, 0xFE68, 0xFF3C], "\\")
        add([0x0332, 0x2017, 0xFF3F], "_")
        add([0x20D2, 0x20D3, 0x2223, 0xFF5C, 0x23B8, 0x23B9, 0x23D0, 0x239C, 0x239F], "|")
        add([0xFE6B, 0xFF20], "@")
        add([0xFE69, 0xFF04], "$")
        add([0x01C3, 0xFE15, 0xFE57, 0xFF01], "!")
        add([0xFE5F, 0xFF03], "#")
        add([0xFE6A, 0xFF05], "%")
        add([0xFE60, 0xFF06], "&")
        add([0x0326, 0xFE50, 0xFE51, 0xFF0C, 0xFF64, 0x3001], ",")
        add([0x2768, 0x276A, 0xFE59, 0xFF08, 0x27EE, 0x2985], "(")
        add([0x2769, 0x276B, 0xFE5A, 0xFF09, 0x27EF, 0x2986], ")")
        add(
            [
                0x204E, 0x2217, 0x229B, 0x2722, 0x2723, 0x2724, 0x2725, 0x2731, 0x2732, 0x2733, 0x273A, 0x273B,
                0x273C, 0x273D, 0x2743, 0x2749, 0x274A, 0x274B, 0x29C6, 0xFE61, 0xFF0A,
            ],
            "*"
        )
        add([0x02D6, 0xFE62, 0xFF0B], "+")
        add([0x3002, 0xFE52, 0xFF0E, 0xFF61], ".")
        add([0x02D0, 0x02F8, 0x2982, 0xA789, 0xFE13, 0xFF1A], ":")
        add([0x204F, 0xFE14, 0xFE54, 0xFF1B], ";")
        add([0xFE64, 0xFF1C], "<")
        add([0x0347, 0xA78A, 0xFE66, 0xFF1D], "=")
        add([0xFE65, 0xFF1E], ">")
        add([0xFE16, 0xFE56, 0xFF1F], "?")
        add([0x02C6, 0x0302, 0xFF3E, 0x1DCD], "^")
        add([0x2774, 0xFE5B, 0xFF5B], "{")
        add([0x2775, 0xFE5C, 0xFF5D], "}")
        map[0xFF3B] = "["
        map[0xFF3D] = "]"
        add([0x02DC, 0x02F7, 0x0303, 0x0330, 0x0334, 0x223C, 0xFF5E], "~")
        // Fullwidth digits and letters, and small capitals.
        for offset in 0..<10 { map[0xFF10 + UInt32(offset)] = String(offset) }
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for (offset, letter) in letters.enumerated() {
            map[0xFF21 + UInt32(offset)] = String(letter)
            map[0xFF41 + UInt32(offset)] = String(letter).lowercased()
        }
        let smallCapitals: [(UInt32, String)] = [
            (0x1D00, "A"), (0x0299, "B"), (0x1D04, "C"), (0x1D05, "D"), (0x1D07, "E"), (0xA730, "F"), (0x0262, "G"),
            (0x029C, "H"), (0x026A, "I"), (0x1D0A, "J"), (0x1D0B, "K"), (0x029F, "L"), (0x1D0D, "M"), (0x0274, "N"),
            (0x1D0F, "O"), (0x1D18, "P"), (0x0280, "R"), (0xA731, "S"), (0x1D1B, "T"), (0x1D1C, "U"), (0x1D20, "V"),
            (0x1D21, "W"), (0x028F, "Y"), (0x1D22, "Z"),
        ]
        for (scalar, letter) in smallCapitals { map[scalar] = letter }
        // Spaces: wide Unicode spaces become two spaces, as Twilio does; separators one.
        add(
            [
                0x00A0, 0x2000, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x202F,
                0x205F, 0x3000, 0x0080, 0x008D, 0x0090, 0x009B, 0x009F,
            ],
            "  "
        )
        add([0x2001, 0x2028, 0x2029], " ")
        map[0x0009] = "       "  // tab: seven spaces
        // Invisible characters are removed.
        add(
            [
                0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x00AD,
                0x0000, 0x0003, 0x0004, 0x0010, 0x0011, 0x0012, 0x0013, 0x0014, 0x0017, 0x0019,
            ],
            ""
        )
        return map
    }()
}
