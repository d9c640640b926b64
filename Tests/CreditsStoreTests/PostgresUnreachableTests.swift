import CreditsStore
import Foundation
import TestSupport
import Testing

/// An operator pointing a command at a PostgreSQL that is not there learns so at once, with the
/// host and port, instead of waiting for the pool's circuit breaker.
@Suite struct PostgresUnreachableTests {
    /// A port on 127.0.0.1 that nothing listens on: bound, read back, and closed again.
    static func closedPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func openingSaysWhichHostAndPortRefusedWithinSeconds() async throws {
        let port = try Self.closedPort()
        let url = try DatabaseURL(parsing: "postgres://textcredits:secret@127.0.0.1:\(port)/textcredits")
        let started = Date()
        await #expect(throws: StoreError.unreachable("cannot connect to 127.0.0.1:\(port): connection refused")) {
            _ = try await DatabaseFactory.open(url, logger: TestDatabase.quietLogger)
        }
        let seconds = Date().timeIntervalSince(started)
        print("DatabaseFactory.open against 127.0.0.1:\(port) (nothing listening) failed after \(seconds) s")
        #expect(seconds < 30)
    }

    @Test func ledgerVerifyPrintsTheReasonAndExits1() async throws {
        let port = try Self.closedPort()
        let started = Date()
        let verify = try await CommandLineTool.run([
            "ledger", "verify", "--database", "postgres://textcredits:secret@127.0.0.1:\(port)/textcredits",
        ])
        let seconds = Date().timeIntervalSince(started)
        print(
            "textcredits ledger verify against 127.0.0.1:\(port) answered after \(seconds) s: \(verify.standardError)"
        )
        #expect(verify.status == 1)
        #expect(verify.standardError.contains("cannot connect to 127.0.0.1:\(port): connection refused"))
        #expect(!verify.standardError.contains("secret"))
        #expect(seconds < 30)
    }
}
