import Crypto
import Foundation

/// Idempotency keys as clients send them and as the ledger keeps them.
public enum IdempotencyKeys {
    /// The longest key a client may send, in characters (Unicode scalars, as the database counts).
    public static let lengthMax = 200

    /// True for a key of 1–200 characters without control characters.
    public static func isValid(_ key: String) -> Bool {
        let scalars = key.unicodeScalars
        return !scalars.isEmpty && scalars.count <= lengthMax
            && !scalars.contains { $0.properties.generalCategory == .control }
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
