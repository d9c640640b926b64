import CreditsCore
import Foundation
import Synchronization

/// Group commit for the ledger in two stages that overlap: while one batch of an organisation is
/// in its transaction, the next batch is read and applied to the ledger as the first will leave
/// it (`SQLLedgerStore.plan`), so the server's work on a batch (the book, reading what it names)
/// runs while the store writes the one before, instead of one after the other.
///
/// Applying ahead is safe because it is checked: every write to an organisation's ledger leaves a
/// new random version on its row (`LedgerChangesWriter`, `SQLLedgerStore.markChanged`), and a plan
/// is written only if, under the organisation's lock, the ledger still has the version the plan
/// was applied to. If anything else wrote in between (a send's settlement, another server, the
/// command line), or the batch before failed, the batch is applied again to the ledger as loaded
/// in its transaction, as it always was. At most one batch per organisation is in its
/// transaction and one applied ahead; a batch's callers get their results once it is committed.
actor LedgerPipeline {
    typealias Output = Result<LedgerOutcome, LedgerError>

    /// Most requests in one batch.
    nonisolated let batchSizeMax: Int
    private let store: SQLLedgerStore
    private let checking: Bool
    private nonisolated let counts = Tally()

    /// How batches were written.
    struct Counts: Sendable, Equatable {
        /// Written as applied ahead.
        var planned = 0
        /// Applied in their transaction (the first of a run, or the ledger had changed).
        var loaded = 0
    }

    /// The counts, shared with the batches' write tasks.
    private final class Tally: Sendable {
        let value = Mutex(Counts())
    }

    private struct Waiter {
        let request: LedgerRequest
        let continuation: CheckedContinuation<Output, any Error>
    }

    private var queues: [OrganizationID: [Waiter]] = [:]
    private var driving: Set<OrganizationID> = []

    /// `checking` applies every planned batch a second time in its transaction and fails the
    /// batch if the two differ (for tests).
    init(store: SQLLedgerStore, batchSizeMax: Int, checking: Bool) {
        precondition(batchSizeMax > 0, "a batch holds at least one request")
        self.store = store
        self.batchSizeMax = batchSizeMax
        self.checking = checking
    }

    /// How batches were written so far.
    nonisolated var written: Counts { counts.value.withLock { $0 } }

    /// Applies a request with whatever else is queued for its organisation.
    func submit(_ request: LedgerRequest) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            queues[request.organization, default: []].append(Waiter(request: request, continuation: continuation))
            if driving.insert(request.organization).inserted {
                Task { await self.drive(request.organization) }
            }
        }
    }

    /// The next batch of an organisation (empty when nothing is queued).
    private func take(_ organization: OrganizationID) -> [Waiter] {
        guard let queue = queues[organization], !queue.isEmpty else { return [] }
        let batch = Array(queue.prefix(batchSizeMax))
        queues[organization]?.removeFirst(batch.count)
        return batch
    }

    /// Ends an organisation's run if nothing is queued; false if something arrived.
    private func stop(_ organization: OrganizationID) -> Bool {
        guard queues[organization]?.isEmpty ?? true else { return false }
        queues[organization] = nil
        driving.remove(organization)
        return true
    }

    /// Runs an organisation's batches until its queue is empty: each batch is applied ahead to the
    /// state the batch in its transaction will leave, then written once that one is done.
    private nonisolated func drive(_ organization: OrganizationID) async {
        // The batch in its transaction; it returns the state it left (nil if it failed) and
        // whether it was written as planned.
        var writing: Task<(after: LedgerState?, planned: Bool), Never>?
        var writingPlanned = false
        var ahead: LedgerState?
        while true {
            let batch = await take(organization)
            if batch.isEmpty {
                if let task = writing {
                    ahead = await task.value.after
                    writing = nil
                    continue
                }
                if await stop(organization) { return }
                continue
            }
            // A batch applied in its transaction leaves a state known only once it is committed.
            if let task = writing, !writingPlanned {
                ahead = await task.value.after
                writing = nil
            }
            let requests = batch.map(\.request)
            var plan: LedgerPlan?
            if let state = ahead { plan = try? await store.plan(requests, after: state) }
            // One batch in its transaction at a time, in order. A plan made on the plan of a batch
            // that was not written as planned is stale: the batch is applied in its transaction.
            if let task = writing, await !task.value.planned { plan = nil }
            writing = Task { [store, checking, counts, plan] in
                do {
                    let written = try await store.write(requests, plan: plan, checking: checking)
                    counts.value.withLock { counts in
                        if written.planned { counts.planned += 1 } else { counts.loaded += 1 }
                    }
                    for (waiter, result) in zip(batch, written.results) {
                        waiter.continuation.resume(returning: result)
                    }
                    return (written.after, written.planned)
                } catch {
                    for waiter in batch { waiter.continuation.resume(throwing: error) }
                    return (nil, false)
                }
            }
            writingPlanned = plan != nil
            ahead = plan?.after
        }
    }
}
