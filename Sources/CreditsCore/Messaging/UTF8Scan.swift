/// Tight loops over a text's UTF-8 bytes, for the checks every estimate makes on every text.
///
/// A native Swift string is contiguous UTF-8, so these run over a buffer the compiler can
/// vectorise rather than through `String.UTF8View`'s index-by-index iteration.
public enum UTF8Scan {
    /// True when every byte satisfies `predicate`.
    @inlinable
    public static func allBytes(of text: some StringProtocol, _ predicate: (UInt8) -> Bool) -> Bool {
        if let result = text.utf8.withContiguousStorageIfAvailable({ bytes in
            for byte in bytes where !predicate(byte) { return false }
            return true
        }) {
            return result
        }
        return text.utf8.allSatisfy(predicate)
    }

    /// Unicode scalars in the text: every byte that is not a UTF-8 continuation byte starts one.
    @inlinable
    public static func scalarCount(of text: some StringProtocol) -> Int {
        if let count = text.utf8.withContiguousStorageIfAvailable({ bytes in
            // Eight bytes at a time: a continuation byte has its top bit set and the next clear.
            var continuation = 0
            var index = 0
            if let base = UnsafeRawPointer(bytes.baseAddress) {
                while index + 8 <= bytes.count {
                    let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    continuation &+= (word & ~(word << 1) & 0x8080_8080_8080_8080).nonzeroBitCount
                    index += 8
                }
            }
            while index < bytes.count {
                if bytes[index] & 0xC0 == 0x80 { continuation &+= 1 }
                index += 1
            }
            return bytes.count - continuation
        }) {
            return count
        }
        return text.unicodeScalars.count
    }
}
