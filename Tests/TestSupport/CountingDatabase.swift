import CreditsStore
import SQLKit
import Synchronization

/// A database that counts the write transactions asked of it (reads and writes go through to
/// the database it wraps): tests prove with it that a poll finding nothing takes no write lock.
public final class CountingDatabase: Database {
    let base: any Database
    private let count = Mutex(0)

    public init(_ base: any Database) { self.base = base }

    /// Write transactions asked for so far.
    public var transactions: Int { count.withLock { $0 } }
    public var dialect: StoreDialect { base.dialect }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await base.read(body)
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        count.withLock { $0 += 1 }
        return try await base.transaction(body)
    }

    public func autocommit<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        count.withLock { $0 += 1 }
        return try await base.autocommit(body)
    }

    /// Leaves the wrapped database open (its owner closes it).
    public func close() async {}
}
