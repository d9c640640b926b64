/// Splits a text into SMS segments per 3GPP TS 23.038/23.040, matching Twilio's segment calculator.
///
/// Packing is greedy and never splits a GSM-7 escape pair or a grapheme cluster across segments,
/// so a segment may carry fewer units than its capacity (`]`×153 is 152 + 152 + 2 septets).
public enum Segmenter {
    /// Segments a text. The text is not validated here; see `MessageBody` for the 1–1600 rule.
    public static func segment(_ text: String) -> Segmentation {
        var text = text
        let gsm = text.withUTF8 { gsmPacking(of: $0) }
        if let gsm { return gsm }
        return ucs2FastPacking(of: text) ?? ucs2Packing(of: text)
    }

    // MARK: GSM-7

    /// Packs a UTF-8 text as GSM-7, or returns nil at the first character outside the alphabet.
    ///
    /// One pass over the bytes: the total decides between the single-segment capacity (160) and
    /// the concatenated one (153), so the concatenated packing is kept alongside and used if needed.
    static func gsmPacking(of bytes: UnsafeBufferPointer<UInt8>) -> Segmentation? {
        let capacity = SMSEncoding.gsm7.concatenatedSegmentUnits
        var total = 0
        var current = 0
        var packed: [Int] = []
        var position = 0
        let count = bytes.count
        while position < count {
            let byte = bytes[position]
            var unit: Int
            if byte < 0x80 {
                unit = GSM7.septets(ascii: UInt32(byte))
                guard unit != 0 else { return nil }
                // CR LF is one grapheme cluster: it never straddles two segments.
                if byte == 0x0D, position + 1 < count, bytes[position + 1] == 0x0A {
                    unit = 2
                    position += 1
                }
                position += 1
            } else {
                guard let (value, length) = decodeScalar(bytes, at: position) else { return nil }
                unit = GSM7.septets(nonASCII: value)
                guard unit != 0 else { return nil }
                position += length
            }
            total += unit
            if current + unit > capacity {
                packed.append(current)
                current = 0
            }
            current += unit
        }
        if total <= SMSEncoding.gsm7.singleSegmentUnits {
            return Segmentation(
                encoding: .gsm7,
                units: total,
                perSegmentUnits: total == 0 ? [] : [total],
                forcingCharacters: []
            )
        }
        packed.append(current)
        return Segmentation(encoding: .gsm7, units: total, perSegmentUnits: packed, forcingCharacters: [])
    }

    /// Decodes the 2- or 3-byte UTF-8 sequence at `position` (the only lengths GSM-7 letters use).
    /// Returns nil for 4-byte sequences, which are never in the GSM alphabet.
    @inline(__always)
    static func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) -> (UInt32, Int)? {
        let lead = bytes[position]
        if lead & 0xE0 == 0xC0, position + 1 < bytes.count {
            let value = UInt32(lead & 0x1F) << 6 | UInt32(bytes[position + 1] & 0x3F)
            return (value, 2)
        }
        if lead & 0xF0 == 0xE0, position + 2 < bytes.count {
            let value =
                UInt32(lead & 0x0F) << 12 | UInt32(bytes[position + 1] & 0x3F) << 6 | UInt32(bytes[position + 2] & 0x3F)
            return (value, 3)
        }
        return nil
    }

    // MARK: UCS-2

    /// Packs a text as UCS-2 (reference implementation, and the path for clusters longer than a
    /// segment): each character costs its UTF-16 length; clusters stay whole.
    static func ucs2Packing(of text: String) -> Segmentation {
        let capacity = SMSEncoding.ucs2.concatenatedSegmentUnits
        var total = 0
        var current = 0
        var packed: [Int] = []
        var forcing: [ForcingCharacter] = []
        var scalarOffset = 0
        var utf16Offset = 0
        for character in text {
            var units = 0
            var scalars = 0
            var isGSM = true
            for scalar in character.unicodeScalars {
                units += scalar.value > 0xFFFF ? 2 : 1
                scalars += 1
                if isGSM && GSM7.septets(scalar) == 0 { isGSM = false }
            }
            if !isGSM {
                forcing.append(
                    ForcingCharacter(character: String(character), index: scalarOffset, utf16Offset: utf16Offset)
                )
            }
            total += units
            if units > capacity {
                // A cluster longer than a whole segment (stacked combining marks) cannot stay
                // whole; it is then split at scalar boundaries, as a handset would reassemble it.
                for scalar in character.unicodeScalars {
                    let unit = scalar.value > 0xFFFF ? 2 : 1
                    if current + unit > capacity {
                        packed.append(current)
                        current = 0
                    }
                    current += unit
                }
            } else {
                if current + units > capacity {
                    packed.append(current)
                    current = 0
                }
                current += units
            }
            scalarOffset += scalars
            utf16Offset += units
        }
        if total <= SMSEncoding.ucs2.singleSegmentUnits {
            return Segmentation(
                encoding: .ucs2,
                units: total,
                perSegmentUnits: total == 0 ? [] : [total],
                forcingCharacters: forcing
            )
        }
        packed.append(current)
        return Segmentation(encoding: .ucs2, units: total, perSegmentUnits: packed, forcingCharacters: forcing)
    }
}
