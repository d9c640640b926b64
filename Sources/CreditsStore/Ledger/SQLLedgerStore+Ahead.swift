import CreditsCore
import Foundation
import Metrics
import SQLKit
import Synchronization

/// An organisation's ledger as a batch left it, for applying the next batch before the first is
/// committed (`LedgerPipeline`): what `LedgerBookLoader` would read for the next batch, except the
/// holds and earlier results that batch names, which it reads for itself — but for those the
/// batch before it touched, which travel here, as they may not be committed yet when it reads.
struct LedgerState: Sendable {
    let organization: OrganizationID
    /// The organisation's ledger version once this state is committed.
    let version: Int64
    /// The version before it: the one the batch that leaves this state must find (the same as
    /// `version` for a state read in a transaction, or left by a batch that changed nothing).
    let base: Int64
    /// Every account.
    let accounts: [LedgerAccount]
    /// Overdraft lots, lots with a portion that is not zero, and the lots the batch created.
    let lots: [Lot]
    /// Portions that are not zero.
    let portions: [PortionKey: Portion]
    /// Holds the batch placed or resolved.
    let holds: [HoldID: Hold]
    /// The batch's results by idempotency key: (fingerprint digest, outcome).
    let results: [String: (fingerprint: String, outcome: LedgerOutcome)]

    /// The state a book leaves once its changes are written with `version`. Instants are kept to
    /// the millisecond, as the store keeps them, so the next batch sees what a load would read.
    init(after book: LedgerBook, version: Int64, base: Int64) {
        organization = book.organization
        self.version = version
        self.base = base
        accounts = Array(book.accounts.values)
        portions = book.portions.filter { $0.value.balance != .zero || $0.value.held != .zero }
        // A lot the batch created and emptied is not committed yet when the next batch reads.
        let kept = Set(portions.keys.map(\.lot)).union(book.changes.lots.map(\.id))
        lots = book.lots.values.filter { $0.kind == .overdraft || kept.contains($0.id) }.map { lot in
            var stored = lot
            stored.createdAt = lot.createdAt.storedInstant
            stored.expiresAt = lot.expiresAt?.storedInstant
            return stored
        }
        holds = book.changes.holds.mapValues { hold in
            var stored = hold
            stored.createdAt = hold.createdAt.storedInstant
            stored.timeoutAt = hold.timeoutAt.storedInstant
            stored.resolvedAt = hold.resolvedAt?.storedInstant
            return stored
        }
        var results: [String: (fingerprint: String, outcome: LedgerOutcome)] = [:]
        results.reserveCapacity(book.changes.transfers.count)
        for (request, outcome, fingerprint) in book.changes.transfers {
            results[request.idempotencyKey] = (fingerprint, outcome)
        }
        self.results = results
    }
}

/// A batch applied ahead of its transaction to the ledger a `LedgerState` describes.
struct LedgerPlan: Sendable {
    /// The version the ledger must still have for the plan to be written.
    let expectedVersion: Int64
    /// The book after the batch, with its changes.
    let book: LedgerBook
    /// One result per request, in order.
    let results: [Result<LedgerOutcome, LedgerError>]
    /// The ledger once the plan is written.
    let after: LedgerState
    /// The transfer ids the plan used, in order (to apply the batch again the same way).
    let transferIDs: TransferIDSequence
    /// The statements that write the plan in its transaction, their texts already written (none
    /// if nothing changed, or if the plan is written as `checked`).
    let statements: LedgerChangesWriter.Statements?
    /// PostgreSQL: the plan as one statement that commits on its own and writes only if the
    /// ledger still has `expectedVersion` (`LedgerChangesWriter.checked`), with the fault points
    /// its statements stand for.
    let checked: (statement: SQLQueryString, faultPoints: Int)?
}

/// Why a batch was not applied ahead.
enum LedgerPlanError: Error {
    /// Someone else wrote the ledger since the state the batch would be applied to: rows read now
    /// could disagree with it. The batch is applied in its transaction instead.
    case changedMeanwhile
}

/// Transfer ids handed out in a fixed order, so applying a batch twice gives equal results.
final class TransferIDSequence: Sendable {
    private let ids: [TransferID]
    private let next = Mutex(0)

    init(count: Int) { ids = (0..<count).map { _ in TransferID(Identifier.make("tr_")) } }

    private init(ids: [TransferID]) { self.ids = ids }

    /// The next id (a book asks at most once per request).
    func make() -> TransferID {
        let index = next.withLock { index in
            defer { index += 1 }
            return index
        }
        return ids[index]
    }

    /// The same ids from the start.
    func replay() -> TransferIDSequence { TransferIDSequence(ids: ids) }
}

extension SQLLedgerStore {
    /// Applies a batch to the ledger as `state` describes it, reading what else it names on a read
    /// connection, outside any transaction. Nothing is written: `write(_:plan:checking:)` writes
    /// the plan if the ledger is still at `state.version`, and applies the batch again otherwise.
    func plan(_ requests: [LedgerRequest], after state: LedgerState) async throws -> LedgerPlan {
        let org = state.organization.rawValue
        let named = LedgerBookLoader.named(by: requests)
        let knownLots = Set(state.lots.map(\.id.rawValue))
        let lotIDs = named.lots.filter { !knownLots.contains($0) }
        let holdIDs = named.holds.filter { state.holds[HoldID($0)] == nil }
        let keys = requests.map(\.idempotencyKey).filter { state.results[$0] == nil }
        let (lots, holds, results, found) = try await database.read { sql in
            let lots = try await LedgerBookLoader.loadLots(lotIDs, overdraft: false, organization: org, on: sql)
            var holds: [Hold] = []
            for chunk in holdIDs.inListChunks {
                holds += try await LedgerBookLoader.loadHolds(chunk, organization: org, on: sql)
            }
            var results: [String: (fingerprint: String, outcome: LedgerOutcome)] = [:]
            for chunk in keys.inListChunks {
                results.merge(try await LedgerBookLoader.loadResults(chunk, organization: org, on: sql)) { first, _ in
                    first
                }
            }
            // Read last: the rows above belong to the ledger the state describes only if no one
            // else has written since (versions are random and never come back, so finding the
            // state's own or the one before it here means nothing else was committed before the
            // reads ended).
            let version = try await sql.all(
                ReusedStatement("SELECT ledger_version FROM organizations WHERE id = \(bind: org)")
            ).first?.value("ledger_version", as: Int64.self)
            return (lots, holds, results, version)
        }
        guard found == state.version || found == state.base else { throw LedgerPlanError.changedMeanwhile }
        let transferIDs = TransferIDSequence(count: requests.count)
        var book = LedgerBook(
            organization: state.organization,
            accounts: state.accounts,
            lots: state.lots + lots,
            portions: state.portions,
            holds: Array(state.holds.values) + holds,
            results: state.results.merging(results) { carried, _ in carried },
            makeTransferID: { transferIDs.make() }
        )
        let outcomes = requests.map { book.apply($0) }
        let version = book.changes.isEmpty ? state.version : SQLLedgerStore.newVersion()
        var statements: LedgerChangesWriter.Statements?
        var checked: (statement: SQLQueryString, faultPoints: Int)?
        if !book.changes.isEmpty, database.dialect == .postgres {
            let parts = LedgerChangesWriter.statements(
                book.changes,
                book: book,
                version: version,
                dialect: .postgres,
                checked: true
            )
            if let statement = LedgerChangesWriter.checked(
                parts,
                organization: org,
                expected: state.version,
                version: version
            ) {
                checked = (statement, parts.steps.filter(\.faultPoint).count)
            }
        }
        if !book.changes.isEmpty, checked == nil {
            statements = LedgerChangesWriter.statements(
                book.changes,
                book: book,
                version: version,
                dialect: database.dialect
            ).written()
        }
        return LedgerPlan(
            expectedVersion: state.version,
            book: book,
            results: outcomes,
            after: LedgerState(after: book, version: version, base: state.version),
            transferIDs: transferIDs,
            statements: statements,
            checked: checked
        )
    }

    /// Writes a batch: its plan if the ledger is still the one the plan was applied to (the
    /// organisation's ledger version, checked under its lock), or else the batch applied to the
    /// ledger as it is in one transaction, as `apply(_:)` does. On PostgreSQL a plan is one
    /// statement that commits on its own and makes that check itself (`LedgerPlan.checked`);
    /// otherwise the plan's statements are written in a transaction after the check. Returns the
    /// results and the state the ledger is left in. `checking` also applies the batch to the
    /// ledger as loaded (under the lock) when the plan is written, and fails if that would give
    /// other results or changes (tests).
    func write(_ requests: [LedgerRequest], plan: LedgerPlan?, checking: Bool) async throws -> (
        results: [Result<LedgerOutcome, LedgerError>], after: LedgerState, planned: Bool
    ) {
        guard let organization = requests.first?.organization else { preconditionFailure("a batch is never empty") }
        precondition(requests.allSatisfy { $0.organization == organization }, "a batch belongs to one organisation")
        if let plan, let checked = plan.checked {
            if checking {
                try await database.transaction { sql in
                    if try await lockedVersion(of: organization, on: sql) == plan.expectedVersion {
                        try await check(plan, requests: requests, on: sql)
                    }
                }
            }
            // A crash test's kill at one of these points leaves the batch unwritten, as a kill
            // inside its transaction does.
            let fault = FaultInjection.shared
            for _ in 0..<checked.faultPoints { fault.statementWritten() }
            let written = try await database.autocommit { sql in
                try await sql.all(ReusedStatement(checked.statement)).first?.decode(column: "written", as: Int64.self)
            }
            guard written == 1 else {
                // The ledger changed since the plan was made, and nothing was written.
                return try await write(requests, plan: nil, checking: checking)
            }
            Recorder(label: SQLLedgerStore.batchMetricLabel).record(requests.count)
            return (plan.results, plan.after, true)
        }
        return try await database.transaction { sql in
            let version = try await lockedVersion(of: organization, on: sql)
            Recorder(label: SQLLedgerStore.batchMetricLabel).record(requests.count)
            if let plan, plan.expectedVersion == version {
                if checking { try await check(plan, requests: requests, on: sql) }
                if let statements = plan.statements { try await LedgerChangesWriter.run(statements, on: sql) }
                return (plan.results, plan.after, true)
            }
            let applied = try await applyLoaded(requests, of: organization, on: sql)
            let written = applied.version ?? version
            return (applied.results, LedgerState(after: applied.book, version: written, base: written), false)
        }
    }

    /// The plan's results and changes are what the batch gives applied to the ledger as loaded now.
    private func check(_ plan: LedgerPlan, requests: [LedgerRequest], on sql: any SQLDatabase) async throws {
        let ids = plan.transferIDs.replay()
        var loaded = try await LedgerBookLoader.load(
            plan.book.organization,
            for: requests,
            on: sql,
            makeTransferID: { ids.make() }
        )
        let results = requests.map { loaded.apply($0) }
        guard results == plan.results, loaded.changes == plan.book.changes else {
            throw StoreError.conflict(
                "a ledger batch applied ahead differs from the same batch applied in its transaction"
            )
        }
    }
}

extension Date {
    /// The instant as the store keeps it (whole milliseconds).
    var storedInstant: Date { Date(milliseconds: milliseconds) }
}
