import HummingbirdBcrypt
import NIOPosix

/// Staff passwords as bcrypt hashes. A check takes tens of milliseconds by design, so it runs
/// on NIO's thread pool, never on an event loop.
public enum Passwords {
    /// bcrypt's cost factor for new hashes.
    public static let cost: UInt8 = 10

    /// A new hash of a password.
    public static func hash(_ password: String) -> String { Bcrypt.hash(password, cost: cost) }

    /// True when the password matches the hash; false for no hash, an empty password or one
    /// longer than bcrypt reads (72 bytes).
    public static func verify(_ password: String, hash: String?) async throws -> Bool {
        guard let hash, !password.isEmpty, password.utf8.count <= 72 else { return false }
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A hash no password is checked against for real: unknown emails cost a check too, so the
    /// answer's timing does not tell them apart.
    public static let decoyHash = Bcrypt.hash("decoy password for unknown emails", cost: cost)
}
