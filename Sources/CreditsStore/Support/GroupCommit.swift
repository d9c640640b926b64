/// Groups concurrent submissions that share a key into batches processed together (one
/// transaction each): under load, many callers cost a few transactions instead of one each.
///
/// The first caller for an idle key becomes its leader: it processes queued items in batches of
/// at most `batchSizeMax` until its own is done, then hands leadership to the next waiter. No
/// background task is needed, and a leader never serves an unbounded stream alone.
public actor GroupCommit<Key: Hashable & Sendable, Item: Sendable, Output: Sendable> {
    /// Most items processed together.
    public nonisolated let batchSizeMax: Int
    /// Processes one batch, taking its items when ready (a work given its items takes them first).
    private let perform: @Sendable (Key, @escaping Take) async throws -> [Output]

    /// Hands a batch's items to its work, once.
    public typealias Take = @Sendable () async -> [Item]

    private struct Waiter {
        let id: Int
        let item: Item
        var continuation: CheckedContinuation<Signal, Never>?
    }

    private enum Signal {
        case done(Result<Output, any Error>)
        case lead
    }

    private var queues: [Key: [Waiter]] = [:]
    private var leading: Set<Key> = []
    /// The batch a work took, until its leader collects the outputs.
    private var taken: [Key: [Waiter]] = [:]
    private var nextID = 0

    /// `perform` processes one batch and returns one output per item, in order.
    public init(batchSizeMax: Int, perform: @escaping @Sendable (Key, [Item]) async throws -> [Output]) {
        precondition(batchSizeMax > 0, "a batch holds at least one item")
        self.batchSizeMax = batchSizeMax
        self.perform = { key, take in try await perform(key, await take()) }
    }

    /// `perform` processes one batch, calling `take` when it is ready for the items (say, once
    /// its transaction holds the write lock): what arrives while it waits for that joins this
    /// batch instead of waiting for the next, so under load fewer, larger batches do the same
    /// work. It returns one output per item taken, in order; a failure before it took them fails
    /// the batch that was queued then. It must call `take` before it returns (not after), as the
    /// outputs are matched to the items it took.
    public init(
        batchSizeMax: Int,
        takingWhenReady perform: @escaping @Sendable (Key, @escaping Take) async throws -> [Output]
    ) {
        precondition(batchSizeMax > 0, "a batch holds at least one item")
        self.batchSizeMax = batchSizeMax
        self.perform = perform
    }

    /// Processes an item with whatever else is queued for its key; errors of the batch are thrown.
    public func submit(_ item: Item, key: Key) async throws -> Output {
        nextID += 1
        let id = nextID
        let signal: Signal
        if leading.contains(key) {
            signal = await withCheckedContinuation { continuation in
                queues[key, default: []].append(Waiter(id: id, item: item, continuation: continuation))
            }
        } else {
            leading.insert(key)
            queues[key, default: []].append(Waiter(id: id, item: item, continuation: nil))
            signal = .lead
        }
        switch signal {
        case .done(let result): return try result.get()
        case .lead: return try await lead(key, until: id).get()
        }
    }

    /// Runs batches for a key until the item `own` is done, then passes the lead on.
    private func lead(_ key: Key, until own: Int) async -> Result<Output, any Error> {
        var ownResult: Result<Output, any Error>?
        while ownResult == nil {
            let outcome: Result<[Output], any Error>
            do {
                outcome = .success(try await perform(key) { await self.take(key) })
            } catch {
                outcome = .failure(error)
            }
            // A work that failed before it took its items fails the batch queued now.
            let batch = taken.removeValue(forKey: key) ?? nextBatch(key)
            let results: [Result<Output, any Error>]
            switch outcome {
            case .success(let outputs):
                precondition(outputs.count == batch.count, "a batch returns one output per item")
                results = outputs.map { .success($0) }
            case .failure(let error):
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
        if let next = queues[key]?.first {
            queues[key]?[0].continuation = nil
            next.continuation?.resume(returning: .lead)
        } else {
            leading.remove(key)
            queues[key] = nil
        }
        return ownResult ?? .failure(StoreError.notFound("batch result"))
    }

    /// Items waiting for a key, the leader's among them (for tests).
    func queuedCount(_ key: Key) -> Int { queues[key]?.count ?? 0 }

    /// The next batch of a key's queue: at most `batchSizeMax` items, the leader's among them.
    private func nextBatch(_ key: Key) -> [Waiter] {
        let batch = Array((queues[key] ?? []).prefix(batchSizeMax))
        precondition(!batch.isEmpty, "the leader's own item is queued until it is processed")
        queues[key]?.removeFirst(batch.count)
        return batch
    }

    /// A work's items: the next batch, taken once (a second call gets the same items).
    private func take(_ key: Key) -> [Item] {
        if let batch = taken[key] { return batch.map(\.item) }
        let batch = nextBatch(key)
        taken[key] = batch
        return batch.map(\.item)
    }
}
