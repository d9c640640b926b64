import Foundation
import Synchronization

/// Makes time-ordered unique identifiers (UUID version 7 layout: 48 bits of Unix milliseconds,
/// then random bits), so new rows land at the end of B-tree indexes on both stores.
public enum Identifier {
    /// A new identifier, optionally with a readable prefix ("org_…", "hold_…").
    public static func make(_ prefix: String = "") -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let milliseconds = UInt64(Date().timeIntervalSince1970 * 1000)
        for index in 0..<6 { bytes[index] = UInt8((milliseconds >> (8 * (5 - index))) & 0xFF) }
        let (high, low) = RandomPool.shared.next()
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

/// The operating system's random bytes (`/dev/urandom`, the kernel's cryptographic generator that
/// `SystemRandomNumberGenerator` also reads), fetched 4 KB at a time: one read serves 256
/// identifiers instead of two `getrandom` calls each (a send of 100,000 texts makes several
/// identifiers per text).
final class RandomPool: Sendable {
    static let shared = RandomPool()

    private struct State {
        var bytes = [UInt64](repeating: 0, count: 512)
        var next = 512
    }

    private let state = Mutex(State())

    /// Opened once for the life of the process (-1 if it cannot be, and then the standard generator serves).
    static let urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC)

    /// Two random words.
    func next() -> (UInt64, UInt64) {
        state.withLock { state in
            if state.next + 2 > state.bytes.count {
                state.bytes.withUnsafeMutableBytes { buffer in
                    var filled = 0
                    while filled < buffer.count {
                        let count = read(RandomPool.urandom, buffer.baseAddress! + filled, buffer.count - filled)
                        if count > 0 {
                            filled += count
                        } else if count < 0 && errno == EINTR {
                            continue
                        } else {
                            // /dev/urandom does not fail once open; if it is missing or ever does,
                            // the standard generator fills the rest, byte by byte.
                            var generator = SystemRandomNumberGenerator()
                            while filled < buffer.count {
                                buffer[filled] = UInt8.random(in: .min ... .max, using: &generator)
                                filled += 1
                            }
                        }
                    }
                }
                state.next = 0
            }
            defer { state.next += 2 }
            return (state.bytes[state.next], state.bytes[state.next + 1])
        }
    }
}
