import CreditsCore
import Foundation
import Metrics
import SQLKit

/// The credit ledger on SQLite or PostgreSQL. Each `apply` is one transaction for one
/// organisation: load, apply every request with `LedgerBook`, write — all or nothing.
public struct SQLLedgerStore: Sendable {
    /// Where the ledger lives.
    public let database: any Database

    /// A ledger store over a migrated database.
    public init(database: any Database) { self.database = database }

    /// The histogram of operations per batch (swift-metrics; `/metrics` describes it).
    public static let batchMetricLabel = "textcredits_ledger_batch_operations"

    /// Applies requests of one organisation in one transaction; each gets its own result, and a
    /// refused request changes nothing while the others apply.
    public func apply(_ requests: [LedgerRequest]) async throws -> [Result<LedgerOutcome, LedgerError>] {
        guard !requests.isEmpty else { return [] }
        return try await database.transaction { sql in try await apply(requests, within: sql) }
    }

    /// Applies requests of one organisation in the caller's unit of work (which then commits or
    /// rolls back the ledger's writes with its own): locks the organisation, loads what the
    /// requests need, applies them with `LedgerBook`, and writes the changes.
    public func apply(_ requests: [LedgerRequest], in work: UnitOfWork) async throws -> [Result<
        LedgerOutcome, LedgerError
    >] {
        try await apply(requests, within: work.sql)
    }

    func apply(_ requests: [LedgerRequest], within sql: any SQLDatabase) async throws -> [Result<
        LedgerOutcome, LedgerError
    >] {
        guard let organization = requests.first?.organization else { return [] }
        precondition(requests.allSatisfy { $0.organization == organization }, "a batch belongs to one organisation")
        Recorder(label: SQLLedgerStore.batchMetricLabel).record(requests.count)
        try await database.lockOrganization(organization.rawValue, on: sql)
        return try await applyLoaded(requests, of: organization, on: sql).results
    }

    /// Loads what the requests need, applies them with `LedgerBook`, and writes the changes with
    /// a new version (returned; nil when nothing changed), under the organisation's lock, which
    /// the caller holds.
    func applyLoaded(_ requests: [LedgerRequest], of organization: OrganizationID, on sql: any SQLDatabase)
        async throws -> (results: [Result<LedgerOutcome, LedgerError>], book: LedgerBook, version: Int64?)
    {
        var book = try await LedgerBookLoader.load(
            organization,
            for: requests,
            on: sql,
            makeTransferID: { TransferID(Identifier.make("tr_")) }
        )
        let results = requests.map { book.apply($0) }
        guard !book.changes.isEmpty else { return (results, book, nil) }
        let version = SQLLedgerStore.newVersion()
        try await LedgerChangesWriter.write(book.changes, book: book, version: version, on: sql)
        return (results, book, version)
    }

    /// A fresh ledger version: random, so two writers never leave the same one, and never 0 (a
    /// ledger not written since version 32 of the schema).
    static func newVersion() -> Int64 { Int64.random(in: 1...Int64.max) }

    /// Records that something changed an organisation's ledger outside `LedgerChangesWriter`
    /// (accounts, overdraft lines, lot expiries): a batch applied ahead of its transaction to the
    /// ledger as it was is then applied again to the ledger as it is (`LedgerPipeline`).
    public static func markChanged(_ organization: OrganizationID, on sql: any SQLDatabase) async throws {
        try await sql.raw(versionStatement(newVersion(), of: organization.rawValue)).run()
    }

    static func versionStatement(_ version: Int64, of organization: String) -> SQLQueryString {
        "UPDATE organizations SET ledger_version = \(bind: version) WHERE id = \(bind: organization)"
    }

    /// Takes the organisation's lock (as `Database.lockOrganization`) and reads its ledger version.
    func lockedVersion(of organization: OrganizationID, on sql: any SQLDatabase) async throws -> Int64 {
        let query: SQLQueryString =
            database.dialect == .postgres
            ? "SELECT ledger_version FROM organizations WHERE id = \(bind: organization.rawValue) FOR UPDATE"
            : "SELECT ledger_version FROM organizations WHERE id = \(bind: organization.rawValue)"
        guard let row = try await sql.raw(query).first() else {
            throw StoreError.notFound("organisation \(organization.rawValue)")
        }
        return try row.value("ledger_version", as: Int64.self)
    }

    /// Creates an organisation's pool and outside accounts inside the caller's transaction.
    public static func createAccounts(for organization: OrganizationID, at instant: Date, on sql: any SQLDatabase)
        async throws -> AccountID
    {
        let accounts = AccountKind.allCases.filter { $0 != .wallet }.map {
            (id: AccountID(Identifier.make("acc_")), kind: $0)
        }
        let table = BulkTable<(id: AccountID, kind: AccountKind)>(
            name: "ledger_accounts",
            columns: [
                .text("id") { $0.id.rawValue }, .text("organization_id") { _ in organization.rawValue },
                .text("kind") { $0.kind.rawValue },
                .bigint("created_at") { _ in instant.milliseconds },
            ]
        )
        try await BulkRows.insert(sql, into: table, rows: accounts)
        try await markChanged(organization, on: sql)
        guard let pool = accounts.first(where: { $0.kind == .pool }) else {
            preconditionFailure("every organisation has a pool")
        }
        return pool.id
    }

    /// Creates a staff member's wallet inside the caller's transaction.
    public static func createWallet(
        for organization: OrganizationID,
        staff: String,
        at instant: Date,
        on sql: any SQLDatabase
    ) async throws -> AccountID {
        let id = AccountID(Identifier.make("acc_"))
        try await sql.raw(
            """
            INSERT INTO ledger_accounts (id, organization_id, kind, staff_id, created_at)
            VALUES (\(bind: id.rawValue), \(bind: organization.rawValue), 'wallet', \(bind: staff), \(bind: instant.milliseconds))
            """
        ).run()
        try await markChanged(organization, on: sql)
        return id
    }

    /// Sets an account's overdraft line (0 turns it off). Refused if the account is already
    /// further below zero than the new line allows.
    public func setOverdraftLimit(_ limit: Credits, for account: AccountID, organization: OrganizationID) async throws {
        precondition(limit >= .zero, "an overdraft line is never negative")
        try await database.transaction { sql in
            // The organisation's row first, as a ledger batch takes it, then the account's: the
            // other order could deadlock with a batch spending from the account on PostgreSQL.
            try await SQLLedgerStore.markChanged(organization, on: sql)
            try await sql.raw(
                """
                UPDATE ledger_accounts SET overdraft_limit = \(bind: limit.milli)
                WHERE id = \(bind: account.rawValue) AND organization_id = \(bind: organization.rawValue) AND kind IN ('pool', 'wallet')
                """
            ).run()
        }
    }

    /// True when credits ever came into the account (a brand-new account has none).
    public func everCredited(_ account: AccountID) async throws -> Bool {
        try await database.read { sql in
            try await sql.raw(
                "SELECT 1 AS found FROM ledger_entries WHERE credit_account_id = \(bind: account.rawValue) LIMIT 1"
            ).first() != nil
        }
    }

    /// Every account of an organisation.
    public func accounts(of organization: OrganizationID) async throws -> [LedgerAccount] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT id, kind, staff_id, balance, pending, overdraft_limit FROM ledger_accounts
                WHERE organization_id = \(bind: organization.rawValue) ORDER BY kind, id
                """
            ).all().map(LedgerBookLoader.account)
        }
    }
}
