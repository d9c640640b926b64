extension ComplianceLint {
    /// Warnings about single characters: emoji, other non-GSM characters, hidden formatting.
    /// `skipsPlainASCII: false` reads every character through grapheme breaking: the reference
    /// the quick skip is tested against.
    func characterWarnings(_ text: String, part: TextPart, costNote: String?, skipsPlainASCII: Bool = true)
        -> [LintWarning]
    {
        // Most texts are printable GSM-7 ASCII: nothing here can apply to them.
        if UTF8Scan.allBytes(of: text, { ($0 >= 0x20 && $0 < 0x7F && $0 != 0x60) || $0 == 0x0A || $0 == 0x0D }) {
            return []
        }
        var emoji: [LintWarning] = []
        var nonGSM: [LintWarning] = []
        var hidden: [LintWarning] = []
        var seenNonGSM: Set<String> = []
        var offset = 0
        let utf8 = Array(text.utf8)
        var byteOffset = 0
        while byteOffset < utf8.count {
            // A printable GSM-7 ASCII character standing alone (the next scalar is below U+0300:
            // ASCII, or a lead byte below 0xCC, so it starts a new cluster) has nothing to warn
            // about: skip it without grapheme breaking.
            let byte = utf8[byteOffset]
            if skipsPlainASCII && byte >= 0x20 && byte < 0x7F && byte != 0x60
                && (byteOffset + 1 == utf8.count || utf8[byteOffset + 1] < 0xCC)
            {
                offset += 1
                byteOffset += 1
                continue
            }
            let character = text[text.utf8.index(text.utf8.startIndex, offsetBy: byteOffset)]
            byteOffset += character.utf8.count
            let length = character.unicodeScalars.count
            let range = TextRange(start: offset, end: offset + length)
            defer { offset += length }
            if ignoresReplaceable,
                character.unicodeScalars.allSatisfy({ GSM7.septets($0) > 0 || SmartEncoding.table[$0.value] != nil })
            {
                continue
            }
            if let name = ComplianceLint.hiddenCharacterName(character) {
                guard hidden.count < ComplianceLint.warningsPerRuleMax else { continue }
                hidden.append(
                    LintWarning(
                        code: .hiddenFormatting,
                        message:
                            "A hidden formatting character (\(name)) was found, often pasted from another program; it may cost extra characters or credits.",
                        part: part,
                        range: range
                    )
                )
                continue
            }
            if ComplianceLint.isEmoji(character) {
                guard emoji.count < ComplianceLint.warningsPerRuleMax else { continue }
                emoji.append(
                    LintWarning(
                        code: .emoji,
                        message:
                            "The emoji \(character) switches the message to UCS-2 (70 characters per segment).\(costNote.map { " " + $0 } ?? "")",
                        part: part,
                        range: range
                    )
                )
                continue
            }
            if character.unicodeScalars.contains(where: { GSM7.septets($0) == 0 }) {
                let key = String(character)
                guard !seenNonGSM.contains(key), nonGSM.count < ComplianceLint.warningsPerRuleMax else { continue }
                seenNonGSM.insert(key)
                nonGSM.append(
                    LintWarning(
                        code: .nonGSMCharacter,
                        message:
                            "\u{201C}\(character)\u{201D} is not a standard GSM character and switches the message to UCS-2 (70 characters per segment).\(costNote.map { " " + $0 } ?? "")",
                        part: part,
                        range: range
                    )
                )
            }
        }
        return emoji + nonGSM + hidden
    }

    /// True for pictographic characters shown as emoji (not plain digits, # or *).
    static func isEmoji(_ character: Character) -> Bool {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return false }
        if first.value < 0x80 { return scalars.contains("\u{20E3}") }  // keycaps such as 1️⃣
        if first.properties.isEmojiPresentation { return true }
        if first.properties.isEmoji && scalars.contains("\u{FE0F}") { return true }
        return first.properties.isEmojiModifierBase || (0x1F000...0x1FAFF).contains(first.value)
    }

    /// A name for an invisible or look-alike formatting character, or nil for a visible one.
    static func hiddenCharacterName(_ character: Character) -> String? {
        guard character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first else { return nil }
        switch scalar.value {
        case 0x200B: return "zero-width space"
        case 0x200C: return "zero-width non-joiner"
        case 0x200D: return "zero-width joiner"
        case 0x2060: return "word joiner"
        case 0xFEFF: return "byte-order mark"
        case 0x00AD: return "soft hyphen"
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return "text-direction mark"
        case 0x00A0, 0x202F: return "non-breaking space"
        case 0x2000...0x200A, 0x205F, 0x3000: return "wide space"
        case 0x2028, 0x2029: return "line or paragraph separator"
        case 0x0009: return "tab"
        case 0x0000...0x0008, 0x000B, 0x000E...0x001F, 0x007F...0x009F: return "control character"
        default: return nil
        }
    }
}
