import Foundation

/// Makes time-ordered unique identifiers (UUID version 7 layout: 48 bits of Unix milliseconds,
/// then random bits), so new rows land at the end of B-tree indexes on both stores.
public enum Identifier {
    /// A new identifier, optionally with a readable prefix ("org_…", "hold_…").
    public static func make(_ prefix: String = "") -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let milliseconds = UInt64(Date().timeIntervalSince1970 * 1000)
        for index in 0..<6 { bytes[index] = UInt8((milliseconds >> (8 * (5 - index))) & 0xFF) }
        var random = SystemRandomNumberGenerator()
        let high = random.next()
        let low = random.next()
        for index in 6..<8 { bytes[index] = UInt8(truncatingIfNeeded: high >> (8 * (index - 6))) }
        for index in 8..<16 { bytes[index] = UInt8(truncatingIfNeeded: low >> (8 * (index - 8))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8](prefix.utf8)
        text.reserveCapacity(text.count + 32)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
