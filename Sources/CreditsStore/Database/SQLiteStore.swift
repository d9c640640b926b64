import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteKit
import Synchronization

/// The embedded store: one SQLite file in WAL mode, one write connection taken by one
/// transaction at a time, and a few read connections that never block the writer.
///
/// The write-ahead log is copied back into the database file (a checkpoint) by a connection of
/// its own, a few times a second after writes, not by the writer: SQLite's automatic checkpoint
/// runs inside the `COMMIT` that crosses 1,000 pages, on the write lock every other writer waits
/// for (up to 18 ms a time; 3.4 s of a 100,000-text settle's 31 s were `COMMIT`s). SQLite
/// starts the log over only when a write begins on a log copied in full, which writes that never
/// pause (a big send's settle, with readers busy) seldom allow: the log then grows to
/// `walPagesMax`, where the writer checkpoints itself (copying only what the checkpointer has not
/// yet) and starts it over. So the log file can reach about 200 MB on disk.
public final class SQLiteStore: Database {
    public let dialect = StoreDialect.sqlite
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let checkpoints: Checkpointer?
    private let writeLock = AsyncLock()
    private let readerCursor = ReaderCursor()
    private let logger: Logger
    private let closed = Mutex(false)

    /// Pages of write-ahead log (4 KB each) past which the writer checkpoints by itself: about
    /// 200 MB, twice what the largest send's one transaction writes (100,000 texts), so that an
    /// accept's `COMMIT` does not copy its own log back.
    static let walPagesMax = 50_000

    /// Read connections opened next to the writer.
    static let readerCount = 3
    /// How long a statement waits for another process's write lock before the store answers busy.
    /// Writers of this process queue on `writeLock` instead and never wait here for each other.
    public static let busyTimeoutMilliseconds = 5000

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], checkpoints: Checkpointer?, logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.checkpoints = checkpoints
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
            "PRAGMA wal_autocheckpoint = \(inMemory ? 1000 : walPagesMax)",
        ] {
            try await writer.sql().raw(SQLQueryString(pragma)).run()
        }
        var readers: [SQLiteConnection] = []
        var checkpoints: Checkpointer?
        if !inMemory {
            let connection = try await SQLiteConnection.open(storage: storage, logger: logger).get()
            try await connection.sql().raw(SQLQueryString(busyPragma)).run()
            checkpoints = Checkpointer(connection: connection, logger: logger)
            for _ in 0..<readerCount {
                let reader = try await SQLiteConnection.open(storage: storage, logger: logger).get()
                try await reader.sql().raw("PRAGMA foreign_keys = ON").run()
                try await reader.sql().raw(SQLQueryString(busyPragma)).run()
                try await reader.sql().raw("PRAGMA query_only = ON").run()
                readers.append(reader)
            }
        }
        return SQLiteStore(writer: writer, readers: readers, checkpoints: checkpoints, logger: logger)
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

    public func autocommit<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(body)
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
                checkpoints?.wrote()
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
                    checkpoints?.wrote()
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

    /// The background checkpointer's checkpoint once every write so far has been checkpointed
    /// (for tests; nil in memory, before the first, or while one is due).
    var settledCheckpoint: Checkpointer.Checkpoint? { checkpoints?.settled }

    /// Pages of log past which the writer checkpoints by itself, as its connection has it.
    func writerCheckpointThreshold() async throws -> Int {
        try await writeLock.withLock {
            guard let row = try await writer.sql().raw("PRAGMA wal_autocheckpoint").first() else { return 0 }
            return try row.decode(column: "wal_autocheckpoint", as: Int.self)
        }
    }

    /// Closes the connections once; later calls do nothing.
    public func close() async {
        let already = closed.withLock { value in
            defer { value = true }
            return value
        }
        guard !already else { return }
        await checkpoints?.stop()
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

/// Checkpoints the write-ahead log on a connection of its own, at most every `interval` and
/// only after a write: PASSIVE, so it neither waits for nor blocks the writer or a reader. A pass
/// that could not copy everything (a reader's snapshot still needs some pages) or failed is
/// tried again at the next.
final class Checkpointer: Sendable {
    static let interval = Duration.milliseconds(200)
    private let connection: SQLiteConnection
    private let state = Mutex<(written: Bool, running: Bool, task: Task<Void, Never>?, last: Checkpoint?)>(
        (false, false, nil, nil)
    )
    private let logger: Logger

    init(connection: SQLiteConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Checkpointer.interval)
                guard !Task.isCancelled, let self else { return }
                await self.pass()
            }
        }
        state.withLock { $0.task = task }
    }

    /// Checkpoints if a transaction committed since the last pass (or the last pass fell short).
    private func pass() async {
        guard
            state.withLock({ value in
                defer { value.written = false }
                value.running = value.written
                return value.written
            })
        else { return }
        do {
            let done = try await checkpoint()
            state.withLock {
                $0.last = done
                $0.running = false
                if done.copiedPages < done.logPages { $0.written = true }
            }
        } catch {
            state.withLock {
                $0.written = true
                $0.running = false
            }
            logger.debug("sqlite checkpoint failed", metadata: ["error": "\(error)"])
        }
    }

    private func checkpoint() async throws -> Checkpoint {
        guard let row = try await connection.sql().raw("PRAGMA wal_checkpoint(PASSIVE)").first() else {
            throw StoreError.unreadableRow("wal_checkpoint")
        }
        return Checkpoint(
            logPages: try row.decode(column: "log", as: Int.self),
            copiedPages: try row.decode(column: "checkpointed", as: Int.self)
        )
    }

    /// What a pass found and did: pages in the log, and pages copied into the database so far.
    struct Checkpoint: Sendable, Equatable {
        var logPages: Int
        var copiedPages: Int
    }

    /// The last pass's checkpoint once every write so far has been checkpointed (nil while a
    /// write waits for its pass or a pass runs, and before the first).
    var settled: Checkpoint? { state.withLock { $0.written || $0.running ? nil : $0.last } }

    /// A transaction committed: the next pass checkpoints.
    func wrote() { state.withLock { $0.written = true } }

    /// Stops the passes (a pass under way finishes first) and closes the connection.
    func stop() async {
        let task = state.withLock { $0.task }
        task?.cancel()
        await task?.value
        try? await connection.close().get()
    }
}
