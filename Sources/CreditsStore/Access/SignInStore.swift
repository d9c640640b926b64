import CreditsCore
import Foundation
import SQLKit

/// One tally a sign-in try counts against: the hash of its key and the backoff it follows.
public struct SignInKey: Sendable, Equatable {
    /// SHA-256 hex of what is counted ("email|address", "address", "email").
    public var hash: String
    public var backoff: SignInBackoff

    public init(hash: String, backoff: SignInBackoff) {
        self.hash = hash
        self.backoff = backoff
    }
}

/// Sign-in tallies and the browsers people have signed in from, shared by every server.
public struct SignInStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    /// Counts a try against every key in one transaction: either the try counts everywhere, or
    /// (some key says wait) it counts nowhere and the latest time any key allows is returned.
    /// Returns nil when the try was counted. Rows are locked in key order, so concurrent tries
    /// on PostgreSQL queue rather than deadlock; SQLite's single writer already serialises them.
    public func countTry(_ keys: [SignInKey], at instant: Date) async throws -> Date? {
        let keys = keys.sorted { $0.hash < $1.hash }
        return try await database.transaction { sql in
            var counted: [(SignInKey, SignInBackoff.Tally)] = []
            var waitUntil: Date?
            for key in keys {
                // A row exists before it is read, so PostgreSQL's row lock holds even for the
                // first try of a key (two first tries cannot both start from nothing).
                try await sql.raw(
                    """
                    INSERT INTO sign_in_tallies (key_hash, failures, last_try, next_try)
                    VALUES (\(bind: key.hash), 0, \(bind: instant.milliseconds), 0)
                    ON CONFLICT (key_hash) DO NOTHING
                    """
                ).run()
                let tally = try await SignInStore.tally(key.hash, sql: sql)
                switch key.backoff.attempt(tally, at: instant) {
                case .counted(let next): counted.append((key, next))
                case .wait(let until): waitUntil = max(waitUntil ?? until, until)
                }
            }
            if let waitUntil { return waitUntil }
            for (key, tally) in counted { try await SignInStore.write(key.hash, tally, sql: sql) }
            return nil
        }
    }

    /// The right password was given: the tallies in `clear` are forgotten, and the try counted
    /// against each of `forgive` is taken back.
    public func succeeded(clear: [String], forgive: [SignInKey]) async throws {
        try await database.transaction { sql in
            for hash in clear.sorted() {
                try await sql.raw("DELETE FROM sign_in_tallies WHERE key_hash = \(bind: hash)").run()
            }
            for key in forgive.sorted(by: { $0.hash < $1.hash }) {
                guard let tally = try await SignInStore.tally(key.hash, sql: sql) else { continue }
                try await SignInStore.write(key.hash, key.backoff.forgive(tally), sql: sql)
            }
        }
    }

    /// True when the browser with this token has signed in with this email before and the
    /// memory has not expired.
    public func isKnownBrowser(tokenHash: String, emailHash: String, at instant: Date) async throws -> Bool {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT 1 AS known FROM known_browsers
                WHERE token_hash = \(bind: tokenHash) AND email_hash = \(bind: emailHash) AND expires_at > \(bind: instant.milliseconds)
                """
            ).first() != nil
        }
    }

    /// Remembers that the browser with this token signed in with this email, until `expiry`.
    public func rememberBrowser(tokenHash: String, emailHash: String, until expiry: Date) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO known_browsers (token_hash, email_hash, expires_at)
                VALUES (\(bind: tokenHash), \(bind: emailHash), \(bind: expiry.milliseconds))
                ON CONFLICT (token_hash, email_hash) DO UPDATE SET expires_at = excluded.expires_at
                """
            ).run()
        }
    }

    /// Forgets tallies untouched since `staleBefore` and browsers remembered past their expiry;
    /// returns how many rows went (a background job).
    @discardableResult
    public func forget(talliesBefore staleBefore: Date, browsersExpiredAt instant: Date) async throws -> Int {
        try await database.transaction { sql in
            let tallies = try await sql.raw(
                "DELETE FROM sign_in_tallies WHERE last_try < \(bind: staleBefore.milliseconds) RETURNING key_hash"
            ).all().count
            let browsers = try await sql.raw(
                "DELETE FROM known_browsers WHERE expires_at <= \(bind: instant.milliseconds) RETURNING token_hash"
            ).all().count
            return tallies + browsers
        }
    }

    static func tally(_ hash: String, sql: any SQLDatabase) async throws -> SignInBackoff.Tally? {
        let lock = sql.storeDialect == .postgres ? " FOR UPDATE" : ""
        let row = try await sql.raw(
            "SELECT failures, last_try, next_try FROM sign_in_tallies WHERE key_hash = \(bind: hash)\(unsafeRaw: lock)"
        ).first()
        return try row.map { row in
            SignInBackoff.Tally(
                failures: try row.value("failures", as: Int.self),
                lastTry: Date(milliseconds: try row.value("last_try", as: Int64.self)),
                nextTry: Date(milliseconds: try row.value("next_try", as: Int64.self))
            )
        }
    }

    static func write(_ hash: String, _ tally: SignInBackoff.Tally, sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            INSERT INTO sign_in_tallies (key_hash, failures, last_try, next_try)
            VALUES (\(bind: hash), \(bind: tally.failures), \(bind: tally.lastTry.milliseconds), \(bind: tally.nextTry.milliseconds))
            ON CONFLICT (key_hash) DO UPDATE
            SET failures = excluded.failures, last_try = excluded.last_try, next_try = excluded.next_try
            """
        ).run()
    }
}
