import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteKit
import Synchronization

/// The embedded store: one SQLite file in WAL mode, one write connection taken by one
/// transaction at a time, and a few read connections that never block the writer.
public final class SQLiteStore: Database {
    public let dialect = StoreDialect.sqlite
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let writeLock = AsyncLock()
    private let readerCursor = ReaderCursor()
    private let logger: Logger
    private let closed = Mutex(false)

    /// Read connections opened next to the writer.
    static let readerCount = 3
    /// How long a statement waits for another process's write lock before the store answers busy.
    /// Writers of this process queue on `writeLock` instead and never wait here for each other.
    public static let busyTimeoutMilliseconds = 5000

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.logger = logger
    }

    /// Opens (creating if needed) the database file at `path`; ":memory:" gives a private
    /// in-memory database on a single connection.
    public static func open(path: String, logger: Logger) async throws -> SQLiteStore {
        let inMemory = path == ":memory:"
        let storage: SQLiteConnection.Storage = inMemory ? .memory : .file(path: path)
        let writer = try await SQLiteConnection.open(storage: storage, logger: logger).get()
        let busyPragma = "PRAGMA busy_timeout = \(busyTimeoutMilliseconds)"
        for pragma in [
            "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON", busyPragma,
        ] {
            try await writer.sql().raw(SQLQueryString(pragma)).run()
        }
        var readers: [SQLiteConnection] = []
        if !inMemory {
            for _ in 0..<readerCount {
                let reader = try await SQLiteConnection.open(storage: storage, logger: logger).get()
                try await reader.sql().raw("PRAGMA foreign_keys = ON").run()
                try await reader.sql().raw(SQLQueryString(busyPragma)).run()
                try await reader.sql().raw("PRAGMA query_only = ON").run()
                readers.append(reader)
            }
        }
        return SQLiteStore(writer: writer, readers: readers, logger: logger)
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await SQLiteStore.answeringBusy {
            guard !readers.isEmpty else { return try await writeLock.withLock { try await body(writer.sql()) } }
            let reader = readers[readerCursor.next() % readers.count]
            return try await body(reader.sql())
        }
    }

    /// Runs `work`, turning SQLite's "database is locked" (another process held the write lock
    /// past the busy timeout) into `StoreError.busy`.
    static func answeringBusy<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as SQLiteError {
            switch error.reason {
            case .busy, .locked, .busyTimeout, .busyInRecovery, .busyInSnapshot, .lockedBySharedCache:
                throw StoreError.busy
            default: throw error
            }
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await SQLiteStore.answeringBusy { try await write(body) }
    }

    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writeLock.withLock {
            let sql = writer.sql()
            try await sql.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(sql)
                try await sql.raw("COMMIT").run()
                return result
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// A transaction with foreign-key enforcement off, for rebuilding a table other tables point
    /// at (SQLite's documented procedure: it cannot change a UNIQUE constraint in place). Every
    /// key is checked with `PRAGMA foreign_key_check` before the commit, and enforcement is on
    /// again afterwards whatever happened.
    func transactionRebuildingTables<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T)
        async throws -> T
    {
        try await writeLock.withLock {
            let sql = writer.sql()
            try await sql.raw("PRAGMA foreign_keys = OFF").run()
            do {
                try await sql.raw("BEGIN IMMEDIATE").run()
                do {
                    let result = try await body(sql)
                    guard try await sql.raw("PRAGMA foreign_key_check").all().isEmpty else {
                        throw StoreError.conflict("a rebuilt table left a foreign key without its row")
                    }
                    try await sql.raw("COMMIT").run()
                    try await sql.raw("PRAGMA foreign_keys = ON").run()
                    return result
                } catch {
                    try? await sql.raw("ROLLBACK").run()
                    throw error
                }
            } catch {
                try? await sql.raw("PRAGMA foreign_keys = ON").run()
                throw error
            }
        }
    }

    /// Closes the connections once; later calls do nothing.
    public func close() async {
        let already = closed.withLock { value in
            defer { value = true }
            return value
        }
        guard !already else { return }
        for reader in readers { try? await reader.close().get() }
        try? await writer.close().get()
    }
}

/// Round-robin choice of a read connection.
final class ReaderCursor: @unchecked Sendable {
    // Safe: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value &+= 1
        return value & Int.max
    }
}
