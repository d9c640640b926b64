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
///
/// The batch applied ahead waits for the one before on a `Gate` that opens when that one's
/// transaction is over, before its callers are answered, and its write runs at high priority:
/// on two cores a write started after the callers were answered waited behind hundreds of their
/// next requests, at each of its round trips.
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
    /// A driver waiting for a request to arrive or its batch in the transaction to finish.
    private var sleeping: [OrganizationID: CheckedContinuation<Void, Never>] = [:]
    /// Organisations for which one of those happened while their driver was not waiting.
    private var woken: Set<OrganizationID> = []

    /// Opened when a batch's transaction is over, with the state it left (nil if it failed) and
    /// whether it was written as planned, before its callers are answered: the next batch's
    /// write waits on it, so the next transaction starts ahead of the callers' next requests
    /// instead of behind them.
    private final class Gate: Sendable {
        struct Written: Sendable {
            let after: LedgerState?
            let planned: Bool
        }

        private enum State {
            case closed([CheckedContinuation<Written, Never>])
            case open(Written)
        }

        private let state = Mutex(State.closed([]))

        var isOpen: Bool {
            state.withLock { if case .open = $0 { true } else { false } }
        }

        func open(_ written: Written) {
            let waiting: [CheckedContinuation<Written, Never>] = state.withLock { state in
                guard case .closed(let waiting) = state else { preconditionFailure("a gate opens once") }
                state = .open(written)
                return waiting
            }
            for continuation in waiting { continuation.resume(returning: written) }
        }

        func wait() async -> Written {
            await withCheckedContinuation { continuation in
                let written: Written? = state.withLock { state in
                    switch state {
                    case .open(let written): return written
                    case .closed(var waiting):
                        waiting.append(continuation)
                        state = .closed(waiting)
                        return nil
                    }
                }
                if let written { continuation.resume(returning: written) }
            }
        }
    }

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
            } else {
                wake(request.organization)
            }
        }
    }

    /// Wakes an organisation's driver, now or when it next waits.
    private func wake(_ organization: OrganizationID) {
        if let sleeper = sleeping.removeValue(forKey: organization) {
            sleeper.resume()
        } else {
            woken.insert(organization)
        }
    }

    /// Waits until a request arrives or the batch in the transaction is done (or one did since
    /// the last wait).
    private func sleep(_ organization: OrganizationID) async {
        guard woken.remove(organization) == nil else { return }
        await withCheckedContinuation { sleeping[organization] = $0 }
    }

    /// The next batch of an organisation (empty when nothing is queued). Beside a batch of
    /// `writing` requests in its transaction it takes at most half of the two together, so the
    /// two batches even out: the callers a batch answers come back together, and a big batch
    /// applied ahead of a small one in its transaction (or the other way round) would leave the
    /// two stages to run one after the other.
    private func take(_ organization: OrganizationID, beside writing: Int) -> [Waiter] {
        guard let queue = queues[organization], !queue.isEmpty else { return [] }
        let share = writing > 0 ? max(1, (queue.count + writing) / 2) : batchSizeMax
        let batch = Array(queue.prefix(min(share, batchSizeMax)))
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
    /// state the batch in its transaction will leave, and its write starts as soon as that one's
    /// transaction is over.
    private nonisolated func drive(_ organization: OrganizationID) async {
        // The newest batch's write, and the one it waits for (at most one in its transaction and
        // one waiting).
        var writing: Gate?
        var before: Gate?
        var answered: Gate?
        // Whether the newest batch's write waits on the batch `before` stands for (it does not
        // when it was applied to the state that batch committed).
        var waitsOnBefore = false
        var writingPlanned = false
        var writingCount = 0
        var ahead: LedgerState?
        while true {
            // The next batch is taken once the newest is in its transaction; a batch waiting
            // behind one that was not written as planned drops its plan, so it too is written
            // as loaded.
            if let gate = before {
                if await !gate.wait().planned, waitsOnBefore { writingPlanned = false }
                before = nil
            }
            let batch = await take(organization, beside: writing == nil ? 0 : writingCount)
            if batch.isEmpty {
                guard let gate = writing else {
                    if await stop(organization) { return }
                    continue
                }
                // Callers the batch before answered come back while this one is written: wait for
                // the first of them rather than for this batch, so the next is applied meanwhile.
                if gate.isOpen {
                    ahead = await gate.wait().after
                    writing = nil
                } else {
                    await sleep(organization)
                }
                continue
            }
            // A batch applied in its transaction leaves a state known only once it is committed.
            if let gate = writing, !writingPlanned {
                ahead = await gate.wait().after
                writing = nil
            }
            let requests = batch.map(\.request)
            var plan: LedgerPlan?
            if let state = ahead { plan = try? await store.plan(requests, after: state) }
            let gate = Gate()
            let answering = Gate()
            Task(priority: .high) { [store, checking, counts, writing, plan] in
                // One batch in its transaction at a time, in order. A plan made on the plan of a
                // batch that was not written as planned is stale: the batch is applied in its
                // transaction.
                var plan = plan
                if let writing, await !writing.wait().planned { plan = nil }
                do {
                    let written = try await store.write(requests, plan: plan, checking: checking)
                    counts.value.withLock { counts in
                        if written.planned { counts.planned += 1 } else { counts.loaded += 1 }
                    }
                    gate.open(Gate.Written(after: written.after, planned: written.planned))
                    Task { await self.wake(organization) }
                    for (waiter, result) in zip(batch, written.results) {
                        waiter.continuation.resume(returning: result)
                    }
                    answering.open(Gate.Written(after: written.after, planned: written.planned))
                } catch {
                    gate.open(Gate.Written(after: nil, planned: false))
                    Task { await self.wake(organization) }
                    for waiter in batch { waiter.continuation.resume(throwing: error) }
                    answering.open(Gate.Written(after: nil, planned: false))
                }
            }
            before = answered
            answered = answering
            waitsOnBefore = writing != nil
            writing = gate
            writingPlanned = plan != nil
            writingCount = batch.count
            ahead = plan?.after
        }
    }
}
