import CreditsCore
import CreditsStore
import Foundation

/// Measures the ledger's hot path (`textcredits bench ledger`): many concurrent tasks reserve
/// holds on one organisation's pool, then post them all, as after a mass send.
public enum LedgerBenchmark {
    /// The figures of one phase.
    public struct Phase: Sendable {
        public var name: String
        public var operations: Int
        public var seconds: Double
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        /// Batches written as applied ahead of their transaction, and applied in it.
        public var batchesAhead = 0
        public var batchesInTransaction = 0
        public var perSecond: Double { Double(operations) / seconds }
    }

    /// Runs both phases on a fresh organisation in `database` and returns their figures.
    public static func run(database: any Database, holds: Int, concurrency: Int, batchSizeMax: Int = 512) async throws
        -> [Phase]
    {
        precondition(holds > 0 && concurrency > 0, "a benchmark needs holds and tasks")
        let organization = OrganizationID(Identifier.make("org_"))
        let start = Date()
        let pool = try await database.transaction { sql in
            try await OrganizationRecord.insert(
                id: organization,
                name: "Benchmark \(organization)",
                country: .us,
                timeZone: "America/Chicago",
                at: start,
                on: sql
            )
        }
        let ledger = Ledger(store: SQLLedgerStore(database: database), batchSizeMax: batchSizeMax)
        _ = try await ledger.apply(
            LedgerRequest(
                organization: organization,
                idempotencyKey: "bench-deposit",
                operation: .deposit(
                    account: pool,
                    source: .purchases,
                    amount: Credits(credits: Int64(holds)),
                    lot: LotID(Identifier.make("lot_")),
                    kind: .purchased,
                    expiresAt: nil
                ),
                at: start,
                actor: "bench",
                memo: "Benchmark credits"
            )
        ).get()
        let holdIDs = (0..<holds).map { HoldID("bench-\(organization)-\($0)") }
        let reserve = try await measure("reserve", count: holds, concurrency: concurrency, using: ledger) { index in
            LedgerRequest(
                organization: organization,
                idempotencyKey: "reserve-\(index)",
                operation: .reserve(
                    hold: holdIDs[index],
                    account: pool,
                    amount: Credits(credits: 1),
                    reference: "bench-message-\(index)",
                    timeoutAt: start.addingTimeInterval(86_400)
                ),
                at: Date(),
                actor: "bench",
                memo: "Benchmark hold"
            )
        }
        let post = try await measure("post", count: holds, concurrency: concurrency, using: ledger) { index in
            LedgerRequest(
                organization: organization,
                idempotencyKey: "post-\(index)",
                operation: .post(hold: holdIDs[index], amount: Credits(credits: 1)),
                at: Date(),
                actor: "bench",
                memo: "Benchmark delivery"
            )
        }
        return [reserve, post]
    }

    /// Runs `count` requests from `concurrency` tasks and records each one's latency.
    static func measure(
        _ name: String,
        count: Int,
        concurrency: Int,
        using ledger: Ledger,
        request: @escaping @Sendable (Int) -> LedgerRequest
    ) async throws -> Phase {
        let clock = ContinuousClock()
        let batchesBefore = ledger.batchesWritten
        let begin = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var mine: [Duration] = []
                    var index = worker
                    while index < count {
                        let started = clock.now
                        let result = try await ledger.apply(request(index))
                        if case .failure(let error) = result { throw error }
                        mine.append(clock.now - started)
                        index += concurrency
                    }
                    return mine
                }
            }
            var all: [Duration] = []
            for try await part in group { all += part }
            return all.sorted()
        }
        let elapsed = clock.now - begin
        let batches = ledger.batchesWritten
        return Phase(
            name: name,
            operations: count,
            seconds: elapsed.seconds,
            p50Milliseconds: latencies[latencies.count / 2].seconds * 1000,
            p99Milliseconds: latencies[min(latencies.count - 1, latencies.count * 99 / 100)].seconds * 1000,
            batchesAhead: batches.ahead - batchesBefore.ahead,
            batchesInTransaction: batches.inTransaction - batchesBefore.inTransaction
        )
    }
}

extension Duration {
    /// The duration in seconds, for printing.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
