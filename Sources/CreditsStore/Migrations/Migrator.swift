import Foundation
import SQLKit

/// Brings a database to the newest schema: `textcredits migrate`, and every server start.
public enum Migrator {
    /// Every migration, in order.
    public static let all: [Migration] = [
        LedgerSchema.migration, AccessSchema.migration, MessagingSchema.migration, BillingSchema.migration,
        AutoRenewSchema.migration, MailSchema.migration,
        PlanSchema.migration, MonthlyAutoRenewSchema.migration, WebSessionSchema.migration, SignInSchema.migration,
        PurchaseCheckSchema.migration, ContactImportSchema.migration, ConsentBasisSchema.migration,
        PasswordResetSchema.migration, OptInSchema.migration, CreditAlertSchema.migration,
        ContactUploadSchema.migration, ContactPagingSchema.migration, MonthlyClaimSchema.migration,
        SubscriptionSchema.migration, MediaSchema.migration, NumbersSchema.migration, ReprocessingSchema.migration,
        ConversationNumberSchema.migration, StaffNumbersSchema.migration, TollFreeVerificationSchema.migration,
        ShortCodeSchema.migration, VoiceSchema.migration, WebhooksSchema.migration, RequestIDSchema.migration,
        LedgerReferenceSchema.migration, LedgerVersionSchema.migration, HoldResolutionSchema.migration,
        EntryLotSchema.migration,
    ]

    /// The newest version this program knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// Applies pending migrations, each in its own transaction, and returns the versions applied.
    /// Safe to run from several processes at once: the loser finds nothing left to do.
    @discardableResult
    public static func migrate(_ database: any Database, through last: Int = .max, now: Date = Date()) async throws
        -> [Migration]
    {
        try await database.transaction { sql in
            try await sql.raw(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                """
            ).run()
        }
        var applied: [Migration] = []
        for migration in all where migration.version <= last {
            let didApply = try await transaction(for: migration, on: database) { sql in
                // One migrator per schema at a time (several server processes may start together).
                if database.dialect == .postgres {
                    try await sql.raw("SELECT pg_advisory_xact_lock(72320001, hashtext(current_schema()))").run()
                }
                let existing = try await sql.raw(
                    "SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)"
                ).all()
                guard existing.isEmpty else { return false }
                for statement in migration.statements(database.dialect) {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                if database.dialect == .sqlite, !migration.sqliteWidenings.isEmpty {
                    try await widen(migration.sqliteWidenings, on: sql)
                }
                try await sql.raw(
                    """
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now.milliseconds))
                    """
                ).run()
                return true
            }
            if didApply { applied.append(migration) }
        }
        let version = try await currentVersion(database)
        if version > latestVersion { throw StoreError.schemaTooNew(found: version, known: latestVersion) }
        return applied
    }

    /// The transaction a migration runs in: a SQLite table rebuild runs with foreign keys checked
    /// at the end instead of on every statement.
    static func transaction<T: Sendable>(
        for migration: Migration,
        on database: any Database,
        _ body: @Sendable @escaping (any SQLDatabase) async throws -> T
    ) async throws -> T {
        if migration.sqliteRebuildsTables, let sqlite = database as? SQLiteStore {
            return try await SQLiteStore.answeringBusy { try await sqlite.transactionRebuildingTables(body) }
        }
        return try await database.transaction(body)
    }

    /// Edits CHECK constraints in SQLite's schema text, then bumps the schema version so every
    /// connection reads the new text. A constraint not found as written is an error.
    static func widen(_ widenings: [SQLiteWidening], on sql: any SQLDatabase) async throws {
        try await sql.raw("PRAGMA writable_schema = ON").run()
        for widening in widenings {
            let changed = try await sql.raw(
                """
                UPDATE sqlite_master SET sql = replace(sql, \(bind: widening.from), \(bind: widening.to))
                WHERE type = 'table' AND name = \(bind: widening.table) AND instr(sql, \(bind: widening.from)) > 0
                RETURNING name
                """
            ).all()
            guard !changed.isEmpty else {
                throw StoreError.unreadableRow("the \(widening.table) table's constraint “\(widening.from)”")
            }
        }
        let version =
            try await sql.raw("PRAGMA schema_version").first().map {
                try $0.decode(column: "schema_version", as: Int.self)
            } ?? 0
        try await sql.raw("PRAGMA schema_version = \(unsafeRaw: String(version + 1))").run()
        try await sql.raw("PRAGMA writable_schema = OFF").run()
    }

    /// The highest applied version (0 for an empty database).
    public static func currentVersion(_ database: any Database) async throws -> Int {
        try await database.read { sql in
            let rows = try await sql.raw("SELECT MAX(version) AS version FROM schema_migrations").all()
            return try rows.first.flatMap {
                try $0.decodeNil(column: "version") ? nil : $0.decode(column: "version", as: Int.self)
            } ?? 0
        }
    }
}

extension Date {
    /// Milliseconds since 1970, the stored form of every instant.
    public var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// An instant from stored milliseconds.
    public init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
