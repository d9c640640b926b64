import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import TestSupport
import Testing

/// An organisation with a ledger in a test database, and shortcuts to move its credits.
struct LedgerTestOrganization {
    let organization: OrganizationID
    let pool: AccountID
    let ledger: Ledger
    let store: SQLLedgerStore
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func make(on database: any Database, name: String = "Bright Stars Gym") async throws
        -> LedgerTestOrganization
    {
        let organization = OrganizationID(Identifier.make("org_"))
        let pool = try await database.transaction { sql in
            try await OrganizationRecord.insert(
                id: organization,
                name: name,
                country: .us,
                timeZone: "America/Chicago",
                at: t0,
                on: sql
            )
        }
        let store = SQLLedgerStore(database: database)
        return LedgerTestOrganization(
            organization: organization,
            pool: pool,
            ledger: Ledger(store: store, checkingAhead: true),
            store: store
        )
    }

    /// Two organisations that bought `credits` each: one acts, the other is what it must not reach.
    static func pair(buying credits: Int64, on database: any Database) async throws -> (
        LedgerTestOrganization, LedgerTestOrganization
    ) {
        let org = try await make(on: database)
        let other = try await make(on: database)
        try await org.buy(credits)
        try await other.buy(credits)
        return (org, other)
    }

    /// The id of the organisation's purchased lot: the oldest, for a test that bought once so far
    /// (two bought in the same millisecond have ids in no set order).
    func purchasedLot() async throws -> String {
        try await store.database.read { sql in
            try #require(
                try await sql.raw(
                    """
                    SELECT id FROM ledger_lots WHERE organization_id = \(bind: organization.rawValue) AND kind = 'purchased'
                    ORDER BY created_at, id LIMIT 1
                    """
                ).first()
            ).decode(column: "id", as: String.self)
        }
    }

    func wallet(_ staff: String) async throws -> AccountID {
        try await store.database.transaction { sql in
            try await SQLLedgerStore.createWallet(
                for: organization,
                staff: staff,
                at: LedgerTestOrganization.t0,
                on: sql
            )
        }
    }

    func request(_ operation: LedgerOperation, key: String = Identifier.make("key_"), at seconds: TimeInterval = 0)
        -> LedgerRequest
    {
        LedgerRequest(
            organization: organization,
            idempotencyKey: key,
            operation: operation,
            at: LedgerTestOrganization.t0.addingTimeInterval(seconds),
            actor: "test",
            memo: operation.name
        )
    }

    @discardableResult
    func apply(_ operation: LedgerOperation, key: String = Identifier.make("key_"), at seconds: TimeInterval = 0)
        async throws
        -> Result<LedgerOutcome, LedgerError>
    {
        try await ledger.apply(request(operation, key: key, at: seconds))
    }

    func buy(_ credits: Int64, into account: AccountID? = nil, at seconds: TimeInterval = 0) async throws {
        _ = try await apply(
            .deposit(
                account: account ?? pool,
                source: .purchases,
                amount: Credits(credits: credits),
                lot: LotID(Identifier.make("lot_")),
                kind: .purchased,
                expiresAt: nil
            ),
            at: seconds
        ).get()
    }

    func account(_ id: AccountID) async throws -> LedgerAccount? {
        try await store.accounts(of: organization).first { $0.id == id }
    }
}
