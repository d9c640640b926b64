extension Segmenter {
    /// Packs a text as UCS-2 in one pass over its UTF-8 bytes.
    ///
    /// Grapheme boundaries are decided by a quick rule where it is certain (two scalars below
    /// U+0300 always have a boundary between them, except CR LF) and by Swift's own grapheme
    /// breaking elsewhere. Returns nil when a single cluster is longer than a segment; the
    /// Character-based `ucs2Packing` handles that rare case.
    static func ucs2FastPacking(of text: String) -> Segmentation? {
        let capacity = SMSEncoding.ucs2.concatenatedSegmentUnits
        var packed: [Int] = []
        var forcing: [ForcingCharacter] = []
        var segmentUnits = 0
        var total = 0
        // The cluster being read: where it starts and what it holds so far.
        var clusterStart = (byte: 0, scalar: 0, utf16: 0)
        var clusterUnits = 0
        var clusterIsGSM = true
        var scalarIndex = 0
        var utf16Offset = 0
        var previous: UInt32 = 0
        let utf8 = text.utf8

        func closeCluster(endingAt end: Int) -> Bool {
            guard clusterUnits > 0 else { return true }
            if clusterUnits > capacity { return false }
            if segmentUnits + clusterUnits > capacity {
                packed.append(segmentUnits)
                segmentUnits = 0
            }
            segmentUnits += clusterUnits
            if !clusterIsGSM {
                let start = utf8.index(utf8.startIndex, offsetBy: clusterStart.byte)
                let stop = utf8.index(utf8.startIndex, offsetBy: end)
                forcing.append(
                    ForcingCharacter(
                        character: String(text[start..<stop]),
                        index: clusterStart.scalar,
                        utf16Offset: clusterStart.utf16
                    )
                )
            }
            return true
        }

        var byteOffset = 0
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let units = value > 0xFFFF ? 2 : 1
            let length = value < 0x80 ? 1 : (value < 0x800 ? 2 : (value < 0x10000 ? 3 : 4))
            let boundary: Bool
            if byteOffset == 0 {
                boundary = true
            } else if value < 0x300 && previous < 0x300 {
                boundary = !(previous == 0x0D && value == 0x0A)
            } else {
                boundary = utf8.index(utf8.startIndex, offsetBy: byteOffset).samePosition(in: text) != nil
            }
            if boundary {
                guard closeCluster(endingAt: byteOffset) else { return nil }
                clusterStart = (byteOffset, scalarIndex, utf16Offset)
                clusterUnits = 0
                clusterIsGSM = true
            }
            clusterUnits += units
            if clusterIsGSM && GSM7.septets(scalar) == 0 { clusterIsGSM = false }
            total += units
            scalarIndex += 1
            utf16Offset += units
            byteOffset += length
            previous = value
        }
        guard closeCluster(endingAt: byteOffset) else { return nil }
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
