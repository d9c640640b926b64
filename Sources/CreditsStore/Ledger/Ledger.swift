import CreditsCore
import Foundation

/// The credit ledger as the rest of the server uses it: one call per operation, grouped into
/// batches per organisation behind the scenes (group commit), so a burst of concurrent holds
/// costs a few transactions instead of one each; each batch is applied while the one before it
/// is written (`LedgerPipeline`).
public final class Ledger: Sendable {
    /// The store batches are written to.
    public let store: SQLLedgerStore
    private let pipeline: LedgerPipeline

    /// A ledger over a store. `checkingAhead` applies every batch applied ahead a second time in
    /// its transaction and fails it if the two differ (tests).
    public init(store: SQLLedgerStore, batchSizeMax: Int = 512, checkingAhead: Bool = false) {
        self.store = store
        self.pipeline = LedgerPipeline(store: store, batchSizeMax: batchSizeMax, checking: checkingAhead)
    }

    /// Most requests applied in one transaction.
    public var batchSizeMax: Int { pipeline.batchSizeMax }

    /// Batches written so far: as applied ahead of their transaction, and applied in it.
    public var batchesWritten: (ahead: Int, inTransaction: Int) {
        let counts = pipeline.written
        return (counts.planned, counts.loaded)
    }

    /// Applies one request (batched with concurrent ones of the same organisation).
    /// Refusals come back as `.failure`; storage failures are thrown.
    public func apply(_ request: LedgerRequest) async throws -> Result<LedgerOutcome, LedgerError> {
        try await pipeline.submit(request)
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
