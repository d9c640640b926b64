import Crypto
import Foundation

/// Idempotency keys as clients send them and as the ledger keeps them.
public enum IdempotencyKeys {
    /// The longest key a client may send, in characters.
    public static let lengthMax = 200

    /// True for a key of 1–200 printable ASCII characters (letters, digits, punctuation, spaces)
    /// that is not only spaces. A header carries bytes, not text: anything else could arrive
    /// differently from how the client meant it (a Latin-1 byte becomes U+FFFD), so two different
    /// keys could meet as one.
    public static func isValid(_ key: String) -> Bool {
        let scalars = key.unicodeScalars
        return !scalars.isEmpty && scalars.count <= lengthMax
            && scalars.allSatisfy { (0x20...0x7E).contains($0.value) }
            && scalars.contains { $0.value != 0x20 }
    }

    /// A client's key under a prefix that keeps keys of different kinds apart ("api-transfer:…").
    /// When the two together would not fit the ledger's 200 characters, the key is replaced by
    /// its SHA-256: the same key always gives the same result, so a repeat is still recognised.
    public static func scoped(_ prefix: String, _ key: String) -> String {
        let whole = prefix + key
        guard whole.unicodeScalars.count > lengthMax else { return whole }
        let digest = SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
        return prefix + "sha256:" + digest
    }
}
