import Crypto
import Foundation

/// API keys look like `tc_<id>_<secret>`: the id finds the stored record, and only a SHA-256 of
/// the secret is stored, so a database leak does not leak keys.
public enum APIKeys {
    /// A new key: its id, the full key to show once, and the hash to store.
    public static func make() -> (id: String, key: String, hash: String) {
        let id = randomText(bytes: 8)
        let secret = randomText(bytes: 24)
        return (id, "tc_\(id)_\(secret)", hash(secret))
    }

    /// Splits a presented key into id and secret, or nil if it is not shaped like one.
    public static func parse(_ key: String) -> (id: String, secret: String)? {
        let bytes = Array(key.utf8)
        guard bytes.count == 3 + 16 + 1 + 48, bytes[0] == UInt8(ascii: "t"), bytes[1] == UInt8(ascii: "c"),
            bytes[2] == UInt8(ascii: "_"), bytes[19] == UInt8(ascii: "_")
        else { return nil }
        func isHex(_ byte: UInt8) -> Bool { (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) }
        guard bytes[3..<19].allSatisfy(isHex), bytes[20...].allSatisfy(isHex) else { return nil }
        return (String(decoding: bytes[3..<19], as: UTF8.self), String(decoding: bytes[20...], as: UTF8.self))
    }

    /// Hex SHA-256 of a secret.
    public static func hash(_ secret: String) -> String {
        var digest: [UInt8] = []
        digest.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(secret.utf8)) {
            digest.append(hexDigits[Int(byte >> 4)])
            digest.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: digest, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Compares hashes in constant time.
    public static func matches(_ secret: String, hash stored: String) -> Bool {
        constantTimeEqual(hash(secret), stored)
    }

    /// Compares two secrets without an early exit, so timing does not reveal how much matched.
    public static func constantTimeEqual(_ left: String, _ right: String) -> Bool {
        let computed = Array(left.utf8)
        let expected = Array(right.utf8)
        guard computed.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in computed.indices { difference |= computed[index] ^ expected[index] }
        return difference == 0
    }

    /// `count` random bytes as lower-case hex.
    public static func randomText(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
