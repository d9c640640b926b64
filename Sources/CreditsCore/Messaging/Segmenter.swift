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
    /// Runs of one-septet ASCII characters (all but CR) are packed by arithmetic, not one by one.
    static func gsmPacking(of bytes: UnsafeBufferPointer<UInt8>) -> Segmentation? {
        byteClasses.withUnsafeBufferPointer { classes in gsmPacking(of: bytes, classes: classes) }
    }

    private static func gsmPacking(
        of bytes: UnsafeBufferPointer<UInt8>,
        classes: UnsafeBufferPointer<UInt8>
    ) -> Segmentation? {
        let capacity = SMSEncoding.gsm7.concatenatedSegmentUnits
        var total = 0
        var current = 0
        var packed: [Int] = []
        var position = 0
        let count = bytes.count
        while position < count {
            let byte = bytes[position]
            if classes[Int(byte)] == oneSeptet {
                var end = position + 1
                while end < count && classes[Int(bytes[end])] == oneSeptet { end += 1 }
                total += end - position
                packRun(end - position, capacity: capacity, current: &current, packed: &packed)
                position = end
                continue
            }
            var unit: Int
            if byte < 0x80 {
                unit = Int(classes[Int(byte)] & 3)
                guard unit != 0 else { return nil }
                // CR LF is one grapheme cluster: it never straddles two segments.
                if byte == 0x0D, position + 1 < count, bytes[position + 1] == 0x0A {
                    unit = 2
                    position += 1
                }
                position += 1
            } else {
                let (value, length) = decodeScalar(bytes, at: position)
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

    /// Byte classes: bit 3 = an ASCII member of the alphabet, bits 0–1 its septets, bit 2 =
    /// carriage return (which may pair with a line feed); 0 for every other byte.
    static let byteClasses: [UInt8] = (0..<256).map { byte in
        guard byte < 0x80, GSM7.septets(ascii: UInt32(byte)) > 0 else { return 0 }
        return 8 | UInt8(GSM7.septets(ascii: UInt32(byte))) | (byte == 0x0D ? 4 : 0)
    }

    /// The class of an ASCII character of one septet that is not CR.
    static let oneSeptet: UInt8 = 9

    /// Packs a run of `count` clusters of one unit each greedily, as one at a time would: the
    /// current segment is filled, then whole segments, the rest starts the next one.
    @inline(__always)
    static func packRun(_ count: Int, capacity: Int, current: inout Int, packed: inout [Int]) {
        var run = count
        let fill = min(run, capacity - current)
        current += fill
        run -= fill
        while run > 0 {
            packed.append(current)
            current = min(run, capacity)
            run -= current
        }
    }

    /// Decodes the scalar at `position` of valid UTF-8 (a String's bytes): its value and length.
    @inline(__always)
    static func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) -> (UInt32, Int) {
        let lead = bytes[position]
        if lead < 0x80 { return (UInt32(lead), 1) }
        if lead < 0xE0 { return (UInt32(lead & 0x1F) << 6 | UInt32(bytes[position + 1] & 0x3F), 2) }
        if lead < 0xF0 {
            return (
                UInt32(lead & 0x0F) << 12 | UInt32(bytes[position + 1] & 0x3F) << 6
                    | UInt32(bytes[position + 2] & 0x3F), 3
            )
        }
        return (
            UInt32(lead & 0x07) << 18 | UInt32(bytes[position + 1] & 0x3F) << 12
                | UInt32(bytes[position + 2] & 0x3F) << 6 | UInt32(bytes[position + 3] & 0x3F), 4
        )
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
