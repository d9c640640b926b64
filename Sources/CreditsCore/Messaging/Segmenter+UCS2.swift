extension Segmenter {
    /// Packs a text as UCS-2 in one pass over its UTF-8 bytes.
    ///
    /// Grapheme boundaries are decided by a quick rule where it is certain (two scalars below
    /// U+0300 always have a boundary between them, except CR LF) and by Swift's own grapheme
    /// breaking elsewhere. Returns nil when a single cluster is longer than a segment; the
    /// Character-based `ucs2Packing` handles that rare case.
    static func ucs2FastPacking(of text: String) -> Segmentation? {
        var contiguous = text
        return contiguous.withUTF8 { bytes in
            byteClasses.withUnsafeBufferPointer { ucs2FastPacking(of: text, bytes: bytes, classes: $0) }
        }
    }

    private static func ucs2FastPacking(
        of text: String,
        bytes: UnsafeBufferPointer<UInt8>,
        classes: UnsafeBufferPointer<UInt8>
    ) -> Segmentation? {
        let capacity = SMSEncoding.ucs2.concatenatedSegmentUnits
        let utf8 = text.utf8
        var packed: [Int] = []
        var forcing: [ForcingCharacter] = []
        var segmentUnits = 0
        var total = 0
        var scalarIndex = 0
        var utf16Offset = 0
        var position = 0
        let count = bytes.count
        // One cluster per turn; `position` is always at a cluster boundary.
        while position < count {
            let lead = bytes[position]
            // A run of ASCII GSM characters other than CR: each is one unit and a cluster alone,
            // except perhaps the last, which a following mark or joiner may extend.
            if classes[Int(lead)] != 0 && lead != 0x0D {
                var end = position + 1
                while end < count, classes[Int(bytes[end])] != 0, bytes[end] != 0x0D { end += 1 }
                if end < count && bytes[end] >= 0xCC { end -= 1 }
                let run = end - position
                if run > 0 {
                    total += run
                    scalarIndex += run
                    utf16Offset += run
                    position = end
                    packRun(run, capacity: capacity, current: &segmentUnits, packed: &packed)
                    continue
                }
            }
            let clusterEnd: Int
            if lead < 0xCC && lead != 0x0D {
                // A scalar below U+0300 followed by another (or by nothing) is a cluster alone.
                let length = lead < 0x80 ? 1 : 2
                if position + length == count || bytes[position + length] < 0xCC {
                    clusterEnd = position + length
                } else {
                    clusterEnd = position + text[utf8.index(utf8.startIndex, offsetBy: position)].utf8.count
                }
            } else {
                clusterEnd = position + text[utf8.index(utf8.startIndex, offsetBy: position)].utf8.count
            }
            var clusterUnits = 0
            var clusterScalars = 0
            var clusterIsGSM = true
            var cursor = position
            while cursor < clusterEnd {
                let (value, length) = decodeScalar(bytes, at: cursor)
                clusterUnits += value > 0xFFFF ? 2 : 1
                clusterScalars += 1
                if clusterIsGSM {
                    clusterIsGSM = value < 0x80 ? GSM7.septets(ascii: value) > 0 : GSM7.septets(nonASCII: value) > 0
                }
                cursor += length
            }
            if clusterUnits > capacity { return nil }
            if segmentUnits + clusterUnits > capacity {
                packed.append(segmentUnits)
                segmentUnits = 0
            }
            segmentUnits += clusterUnits
            if !clusterIsGSM {
                forcing.append(
                    ForcingCharacter(
                        character: String(
                            decoding: UnsafeBufferPointer(rebasing: bytes[position..<clusterEnd]),
                            as: UTF8.self
                        ),
                        index: scalarIndex,
                        utf16Offset: utf16Offset
                    )
                )
            }
            total += clusterUnits
            scalarIndex += clusterScalars
            utf16Offset += clusterUnits
            position = clusterEnd
        }
        if total <= SMSEncoding.ucs2.singleSegmentUnits {
            return Segmentation(
                encoding: .ucs2,
                units: total,
                perSegmentUnits: total == 0 ? [] : [total],
                forcingCharacters: forcing
            )
        }
        packed.append(segmentUnits)
        return Segmentation(encoding: .ucs2, units: total, perSegmentUnits: packed, forcingCharacters: forcing)
    }
}
