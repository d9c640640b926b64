import Testing

@testable import CreditsStore

/// Group commit: concurrent submissions of one key are processed in batches. A work that takes
/// its items only when it is ready for them (a settlement, once its transaction holds SQLite's
/// write lock) also gets what arrived while it waited.
@Suite struct GroupCommitTests {
    /// Holds works at a point until released, counting who waits there.
    actor Gate {
        private var open = false
        private var waiting: [CheckedContinuation<Void, Never>] = []
        var waitingCount: Int { waiting.count }

        func pass() async {
            guard !open else { return }
            await withCheckedContinuation { waiting.append($0) }
        }

        func release() {
            open = true
            for continuation in waiting { continuation.resume() }
            waiting = []
        }
    }

    /// The batches a work saw, in order.
    actor Batches {
        private(set) var seen: [[Int]] = []
        func add(_ batch: [Int]) { seen.append(batch) }
    }

    struct Refused: Error, Equatable {}

    /// Submits item 0 (which leads), waits until its work is held at the gate, then submits
    /// `others` and waits until `queued` items wait (the leader's own too while a taking work
    /// has not taken it); releases the gate and returns every output.
    static func run(
        _ commit: GroupCommit<Int, Int, Int>,
        gate: Gate,
        others: Int,
        queued: Int
    ) async -> [Int: Result<Int, Refused>] {
        await withTaskGroup(of: (Int, Result<Int, Refused>).self) { group in
            func submit(_ item: Int) {
                group.addTask {
                    do { return (item, .success(try await commit.submit(item, key: 1))) } catch {
                        return (item, .failure(Refused()))
                    }
                }
            }
            submit(0)
            while await gate.waitingCount < 1 { await Task.yield() }
            for item in 1...others { submit(item) }
            while await commit.queuedCount(1) < queued { await Task.yield() }
            await gate.release()
            var outputs: [Int: Result<Int, Refused>] = [:]
            for await (item, output) in group { outputs[item] = output }
            return outputs
        }
    }

    @Test func itemsThatArriveWhileTheWorkWaitsJoinItsBatch() async {
        let gate = Gate()
        let batches = Batches()
        let commit = GroupCommit<Int, Int, Int>(
            batchSizeMax: 64,
            takingWhenReady: { _, take in
                await gate.pass()
                let items = await take()
                #expect(await take() == items, "a second call takes nothing more")
                await batches.add(items)
                return items.map { $0 * 10 }
            }
        )
        let outputs = await GroupCommitTests.run(commit, gate: gate, others: 10, queued: 11)
        #expect(outputs.count == 11)
        for (item, output) in outputs { #expect(output == .success(item * 10)) }
        let seen = await batches.seen
        #expect(seen.count == 1, "one batch: \(seen)")
        #expect(seen.first?.first == 0, "the leader's item first")
        #expect(seen.first.map { Set($0) } == Set(0...10))
    }

    @Test func aWorkGivenItsItemsUpFrontLeavesLaterOnesForTheNextBatch() async {
        let gate = Gate()
        let batches = Batches()
        let commit = GroupCommit<Int, Int, Int>(batchSizeMax: 64) { _, items in
            await gate.pass()
            await batches.add(items)
            return items.map { $0 * 10 }
        }
        let outputs = await GroupCommitTests.run(commit, gate: gate, others: 10, queued: 10)
        for (item, output) in outputs { #expect(output == .success(item * 10)) }
        let seen = await batches.seen
        #expect(seen.count == 2 && seen.first == [0] && seen.last.map { Set($0) } == Set(1...10), "\(seen)")
    }

    /// True the first time only.
    actor Once {
        private var armed = true
        func fire() -> Bool {
            defer { armed = false }
            return armed
        }
    }

    @Test func aWorkThatFailsBeforeTakingFailsTheBatchQueuedThenAndTheKeyStaysUsable() async throws {
        let gate = Gate()
        let once = Once()
        let commit = GroupCommit<Int, Int, Int>(
            batchSizeMax: 64,
            takingWhenReady: { _, take in
                await gate.pass()
                if await once.fire() { throw Refused() }  // as a transaction that could not begin
                return await take().map { $0 * 10 }
            }
        )
        let outputs = await GroupCommitTests.run(commit, gate: gate, others: 5, queued: 6)
        #expect(outputs.count == 6)
        for (_, output) in outputs { #expect(output == .failure(Refused())) }
        #expect(try await commit.submit(7, key: 1) == 70, "the next submission leads and is served")
        #expect(await commit.queuedCount(1) == 0)
    }
}
