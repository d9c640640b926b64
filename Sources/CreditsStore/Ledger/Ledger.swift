import CreditsCore
import Foundation

/// The credit ledger as the rest of the server uses it: one call per operation, grouped into
/// batches per organisation behind the scenes (group commit), so a burst of concurrent holds
/// costs a few transactions instead of one each.
///
/// The first caller of an idle organisation becomes its batch leader: it applies queued requests
/// in batches of at most `batchSizeMax` until its own is done, then hands leadership to the next
/// waiter. No background task is needed and no request waits behind an unbounded queue alone.
public actor Ledger {
    /// The store batches are written to.
    public nonisolated let store: SQLLedgerStore
    /// Most requests applied in one transaction.
    public nonisolated let batchSizeMax: Int

    private struct Waiter {
        let id: Int
        let request: LedgerRequest
        var continuation: CheckedContinuation<Signal, Never>?
    }

    private enum Signal {
        case done(Result<LedgerOutcome, any Error>)
        case lead
    }

    private var queues: [OrganizationID: [Waiter]] = [:]
    private var leading: Set<OrganizationID> = []
    private var nextID = 0

    /// A ledger over a store.
    public init(store: SQLLedgerStore, batchSizeMax: Int = 512) {
        precondition(batchSizeMax > 0, "a batch holds at least one request")
        self.store = store
        self.batchSizeMax = batchSizeMax
    }

    /// Applies one request (batched with concurrent ones of the same organisation).
    /// Refusals come back as `.failure`; storage failures are thrown.
    public func apply(_ request: LedgerRequest) async throws -> Result<LedgerOutcome, LedgerError> {
        let organization = request.organization
        nextID += 1
        let id = nextID
        let signal: Signal
        if leading.contains(organization) {
            signal = await withCheckedContinuation { continuation in
                queues[organization, default: []].append(Waiter(id: id, request: request, continuation: continuation))
            }
        } else {
            leading.insert(organization)
            queues[organization, default: []].append(Waiter(id: id, request: request, continuation: nil))
            signal = .lead
        }
        let result: Result<LedgerOutcome, any Error>
        switch signal {
        case .done(let done): result = done
        case .lead: result = await lead(organization, until: id)
        }
        switch result {
        case .success(let outcome): return .success(outcome)
        case .failure(let error as LedgerError): return .failure(error)
        case .failure(let error): throw error
        }
    }

    /// Applies several requests of one organisation together, in order, in as few transactions
    /// as the batch limit allows (mass sends reserve thousands of holds this way).
    public nonisolated func applyAll(_ requests: [LedgerRequest]) async throws -> [Result<LedgerOutcome, LedgerError>] {
        var results: [Result<LedgerOutcome, LedgerError>] = []
        results.reserveCapacity(requests.count)
        var start = 0
        while start < requests.count {
            let chunk = Array(requests[start..<min(requests.count, start + batchSizeMax)])
            results += try await store.apply(chunk)
            start += chunk.count
        }
        return results
    }

    /// Runs batches for an organisation until the request `own` is done, then passes the lead on.
    private func lead(_ organization: OrganizationID, until own: Int) async -> Result<LedgerOutcome, any Error> {
        var ownResult: Result<LedgerOutcome, any Error>?
        while ownResult == nil {
            let batch = Array((queues[organization] ?? []).prefix(batchSizeMax))
            queues[organization]?.removeFirst(batch.count)
            precondition(!batch.isEmpty, "the leader's own request is queued until it is applied")
            let results: [Result<LedgerOutcome, any Error>]
            do {
                results = try await store.apply(batch.map(\.request)).map { $0.mapError { $0 as any Error } }
            } catch {
                results = batch.map { _ in .failure(error) }
            }
            for (waiter, result) in zip(batch, results) {
                if waiter.id == own {
                    ownResult = result
                } else {
                    waiter.continuation?.resume(returning: .done(result))
                }
            }
        }
        if var next = queues[organization]?.first {
            queues[organization]?[0].continuation = nil
            let continuation = next.continuation
            next.continuation = nil
            continuation?.resume(returning: .lead)
        } else {
            leading.remove(organization)
            queues[organization] = nil
        }
        return ownResult ?? .failure(StoreError.notFound("ledger result"))
    }
}
