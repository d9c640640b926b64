import Foundation
import Logging
import SQLiteKit

/// What a backup or a restore put in place.
public struct SQLiteCopyReport: Sendable {
    /// The file written.
    public var path: String
    /// Its size.
    public var bytes: Int64
    /// The newest migration it holds.
    public var migrationVersion: Int
    /// How long the copy and its check took.
    public var duration: Duration
}

/// Copies of an SQLite database that the server may be writing to while they are taken
/// (`textcredits backup`, `textcredits restore`).
///
/// SQLite's online backup API (`sqlite3_backup_*`) is not reachable from here: sqlite-nio keeps
/// its vendored SQLite in a target it does not export and keeps the connection handle internal.
/// `VACUUM INTO` gives the same guarantee: it reads the whole database inside one read
/// transaction, so the copy is a consistent snapshot, and in WAL mode that read never blocks the
/// server's writer (nor the writer it). A copy is written to a hidden file beside its
/// destination, checked, flushed to disk and only then renamed into place, so the destination
/// holds either the old file or a complete, checked copy.
public enum SQLiteBackup {
    /// Copies the live database at `source` to `target`, refusing an existing `target` unless
    /// `replacing`.
    public static func backup(
        _ source: DatabaseURL,
        to target: String,
        replacing: Bool,
        logger: Logger
    ) async throws -> SQLiteCopyReport {
        guard case .sqlite(let sourcePath) = source else { throw BackupError.postgresUsesPgDump }
        guard sourcePath != ":memory:", FileManager.default.fileExists(atPath: sourcePath) else {
            throw BackupError.missing(path: sourcePath)
        }
        guard !sameFile(sourcePath, target) else { throw BackupError.sameFile(path: target) }
        if !replacing, FileManager.default.fileExists(atPath: target) {
            throw BackupError.targetExists(path: target, restoring: false)
        }
        let started = ContinuousClock.now
        let partial = partialPath(beside: target)
        defer { removeFiles(at: partial) }
        let sourceVersion = try await withConnection(sourcePath, logger: logger) { connection in
            let sql = connection.sql()
            try await sql.raw("PRAGMA busy_timeout = \(unsafeRaw: String(SQLiteStore.busyTimeoutMilliseconds))").run()
            let version = try await migrationVersion(sql, path: sourcePath)
            try await SQLiteStore.answeringBusy { try await sql.raw("VACUUM INTO \(bind: partial)").run() }
            return version
        }
        let checked = try await check(partial, named: target, logger: logger)
        guard checked.migrationVersion == sourceVersion else {
            throw BackupError.migrationsDiffer(source: sourceVersion, copy: checked.migrationVersion)
        }
        try install(partial, at: target)
        return SQLiteCopyReport(
            path: target,
            bytes: checked.bytes,
            migrationVersion: checked.migrationVersion,
            duration: ContinuousClock.now - started
        )
    }

    /// Puts the backup at `backupPath` in place as the database `target`, refusing an existing
    /// database unless `replacing`. The server must not be running on `target`.
    public static func restore(
        from backupPath: String,
        to target: DatabaseURL,
        replacing: Bool,
        logger: Logger
    ) async throws -> SQLiteCopyReport {
        guard case .sqlite(let targetPath) = target, targetPath != ":memory:" else {
            throw BackupError.postgresUsesPgDump
        }
        guard FileManager.default.fileExists(atPath: backupPath) else { throw BackupError.missing(path: backupPath) }
        guard !sameFile(backupPath, targetPath) else { throw BackupError.sameFile(path: targetPath) }
        if !replacing, FileManager.default.fileExists(atPath: targetPath) {
            throw BackupError.targetExists(path: targetPath, restoring: true)
        }
        let started = ContinuousClock.now
        let partial = partialPath(beside: targetPath)
        defer { removeFiles(at: partial) }
        // The check runs on the copy, so the backup file itself is only ever read.
        try FileManager.default.copyItem(atPath: backupPath, toPath: partial)
        let checked = try await check(partial, named: backupPath, logger: logger)
        guard checked.migrationVersion <= Migrator.latestVersion else {
            throw BackupError.schemaTooNew(
                path: backupPath,
                found: checked.migrationVersion,
                known: Migrator.latestVersion
            )
        }
        try install(partial, at: targetPath)
        return SQLiteCopyReport(
            path: targetPath,
            bytes: checked.bytes,
            migrationVersion: checked.migrationVersion,
            duration: ContinuousClock.now - started
        )
    }

    /// What `check` found in a sound copy.
    public struct Check: Sendable, Equatable {
        /// The newest migration the file holds.
        public var migrationVersion: Int
        /// The file's size.
        public var bytes: Int64
    }

    /// Confirms that the file at `path` is a TextCredits SQLite database that passes
    /// `PRAGMA integrity_check`; errors name the file as `named`.
    public static func check(_ path: String, named: String? = nil, logger: Logger) async throws -> Check {
        let name = named ?? path
        guard FileManager.default.fileExists(atPath: path) else { throw BackupError.missing(path: name) }
        let version = try await withConnection(path, logger: logger) { connection in
            let sql = connection.sql()
            do {
                let problems = try await sql.raw("PRAGMA integrity_check").all().map {
                    try $0.decode(column: "integrity_check", as: String.self)
                }
                guard problems == ["ok"] else { throw BackupError.damaged(path: name, problems: problems) }
                return try await migrationVersion(sql, path: name)
            } catch let error as SQLiteError {
                if error.reason == .notADatabase { throw BackupError.notTextCredits(path: name) }
                throw BackupError.damaged(path: name, problems: [error.message])
            }
        }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber
        return Check(migrationVersion: version, bytes: size?.int64Value ?? 0)
    }

    /// The newest applied migration, or `notTextCredits` when there is no migration table.
    static func migrationVersion(_ sql: any SQLDatabase, path: String) async throws -> Int {
        let tables = try await sql.raw(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).all()
        guard !tables.isEmpty else { throw BackupError.notTextCredits(path: path) }
        let row = try await sql.raw("SELECT MAX(version) AS version FROM schema_migrations").first()
        guard let row, !(try row.decodeNil(column: "version")) else { throw BackupError.notTextCredits(path: path) }
        return try row.decode(column: "version", as: Int.self)
    }

    /// Runs `body` on one connection to the file at `path`, closed afterwards whatever happens.
    static func withConnection<T: Sendable>(
        _ path: String,
        logger: Logger,
        _ body: (SQLiteConnection) async throws -> T
    ) async throws -> T {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger).get()
        do {
            let result = try await body(connection)
            try await connection.close().get()
            return result
        } catch {
            try? await connection.close().get()
            throw error
        }
    }

    /// True when both paths name one file (through `.`, `..` and symbolic links).
    static func sameFile(_ first: String, _ second: String) -> Bool {
        func resolved(_ path: String) -> String {
            URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        return resolved(first) == resolved(second)
    }

    /// A hidden file next to `target`, on the same file system so that the final rename is atomic.
    static func partialPath(beside target: String) -> String {
        let url = URL(fileURLWithPath: target)
        let name = ".\(url.lastPathComponent).partial-\(UUID().uuidString.prefix(8))"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Flushes the checked copy to disk, removes the stale `-wal` and `-shm` of whatever `target`
    /// held before (SQLite would otherwise apply the old log to the new file), and renames the copy
    /// over `target` in one step.
    static func install(_ partial: String, at target: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: partial))
        try handle.synchronize()
        try handle.close()
        removeFiles(at: target, keepingDatabase: true)
        guard rename(partial, target) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target])
        }
        let directory = open(URL(fileURLWithPath: target).deletingLastPathComponent().path, O_RDONLY)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }

    /// Removes a database file's `-wal` and `-shm`, and the file itself unless `keepingDatabase`.
    static func removeFiles(at path: String, keepingDatabase: Bool = false) {
        for suffix in keepingDatabase ? ["-wal", "-shm"] : ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}
