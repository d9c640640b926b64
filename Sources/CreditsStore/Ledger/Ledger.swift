import CreditsCore
import Foundation

/// The credit ledger as the rest of the server uses it: one call per operation, grouped into
/// batches per organisation behind the scenes (group commit), so a burst of concurrent holds
/// costs a few transactions instead of one each.
public final class Ledger: Sendable {
    /// The store batches are written to.
    public let store: SQLLedgerStore
    private let commits: GroupCommit<OrganizationID, LedgerRequest, Result<LedgerOutcome, LedgerError>>

    /// A ledger over a store.
    public init(store: SQLLedgerStore, batchSizeMax: Int = 512) {
        self.store = store
        self.commits = GroupCommit(batchSizeMax: batchSizeMax) { _, requests in try await store.apply(requests) }
    }

    /// Most requests applied in one transaction.
    public var batchSizeMax: Int { commits.batchSizeMax }

    /// Applies one request (batched with concurrent ones of the same organisation).
    /// Refusals come back as `.failure`; storage failures are thrown.
    public func apply(_ request: LedgerRequest) async throws -> Result<LedgerOutcome, LedgerError> {
        try await commits.submit(request, key: request.organization)
    }

    /// Applies several requests of one organisation together, in order, in as few transactions
    /// as the batch limit allows (mass sends reserve thousands of holds this way).
    public func applyAll(_ requests: [LedgerRequest]) async throws -> [Result<LedgerOutcome, LedgerError>] {
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
}
