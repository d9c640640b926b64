/// Groups concurrent submissions that share a key into batches processed together (one
/// transaction each): under load, many callers cost a few transactions instead of one each.
///
/// The first caller for an idle key becomes its leader: it processes queued items in batches of
/// at most `batchSizeMax` until its own is done, then hands leadership to the next waiter. No
/// background task is needed, and a leader never serves an unbounded stream alone.
public actor GroupCommit<Key: Hashable & Sendable, Item: Sendable, Output: Sendable> {
    /// Most items processed together.
    public nonisolated let batchSizeMax: Int
    private let perform: @Sendable (Key, [Item]) async throws -> [Output]

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
    private var nextID = 0

    /// `perform` processes one batch and returns one output per item, in order.
    public init(batchSizeMax: Int, perform: @escaping @Sendable (Key, [Item]) async throws -> [Output]) {
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
            let batch = Array((queues[key] ?? []).prefix(batchSizeMax))
            precondition(!batch.isEmpty, "the leader's own item is queued until it is processed")
            queues[key]?.removeFirst(batch.count)
            let results: [Result<Output, any Error>]
            do {
                let outputs = try await perform(key, batch.map(\.item))
                precondition(outputs.count == batch.count, "a batch returns one output per item")
                results = outputs.map { .success($0) }
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
        if let next = queues[key]?.first {
            queues[key]?[0].continuation = nil
            next.continuation?.resume(returning: .lead)
        } else {
            leading.remove(key)
            queues[key] = nil
        }
        return ownResult ?? .failure(StoreError.notFound("batch result"))
    }
}
