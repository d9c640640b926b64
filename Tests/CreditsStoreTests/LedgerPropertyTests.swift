import CreditsCore
import CreditsStore
import Foundation
import PropertyBased
import TestSupport
import Testing

/// Random sequences of every ledger operation, some steps running several operations at once;
/// after every step `ledger verify` must find nothing wrong.
@Suite struct LedgerPropertyTests {
    /// One generated operation: a kind and a few numbers interpreted against the current state.
    struct Step: Sendable, CustomStringConvertible {
        let code: Int
        var kind: Int { code % 10 }
        var pick: Int { (code / 10) % 1000 }
        var other: Int { (code / 10_000) % 1000 }
        var amount: Int64 { Int64((code / 10_000_000) % 40) + 1 }
        var description: String { "\(kind)/\(pick)/\(other)/\(amount)" }
    }

    /// What the run has created so far, to pick targets from.
    actor World {
        var holds: [HoldID] = []
        var lots: [(LotID, Date?)] = []
        func add(hold: HoldID) { holds.append(hold) }
        func add(lot: LotID, expiresAt: Date?) { lots.append((lot, expiresAt)) }
    }

    static let steps = Gen.int(in: 0...Int(Int32.max)).array(of: 1...4).array(of: 4...18)

    @Test(arguments: TestDatabase.available)
    func invariantsHoldAfterEveryStep(_ store: TestDatabase) async throws {
        await propertyCheck(count: store == .sqlite ? 25 : 12, input: LedgerPropertyTests.steps) { program in
            try await store.with { database, _ in
                let org = try await LedgerTestOrganization.make(on: database)
                let wallets = [org.pool, try await org.wallet("alice"), try await org.wallet("bob")]
                let world = World()
                let verifier = LedgerVerifier(database: database)
                for (index, codes) in program.enumerated() {
                    let now = TimeInterval(index * 60)
                    var requests: [LedgerRequest] = []
                    for code in codes {
                        requests.append(
                            await LedgerPropertyTests.request(
                                for: Step(code: code),
                                org: org,
                                wallets: wallets,
                                world: world,
                                now: now
                            )
                        )
                    }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for request in requests {
                            group.addTask { _ = try await org.ledger.apply(request) }
                        }
                        try await group.waitForAll()
                    }
                    let violations = try await verifier.verify()
                    #expect(violations == [], "after step \(index): \(codes.map { Step(code: $0) })")
                    for account in try await org.store.accounts(of: org.organization) where account.kind.holdsCredits {
                        #expect(account.available >= .zero)
                    }
                    if !violations.isEmpty { return }
                }
            }
        }
    }

    /// Turns a generated step into a ledger request against what exists now.
    static func request(
        for step: Step,
        org: LedgerTestOrganization,
        wallets: [AccountID],
        world: World,
        now: TimeInterval
    ) async -> LedgerRequest {
        let account = wallets[step.pick % wallets.count]
        let amount = Credits(credits: step.amount)
        let instant = LedgerTestOrganization.t0.addingTimeInterval(now)
        let holds = await world.holds
        let lots = await world.lots
        let operation: LedgerOperation
        switch step.kind {
        case 0:
            let lot = LotID(Identifier.make("lot_"))
            let expiresAt = instant.addingTimeInterval(TimeInterval(60 * (1 + step.other % 5)))
            await world.add(lot: lot, expiresAt: expiresAt)
            operation = .deposit(
                account: account,
                source: .planGrants,
                amount: amount,
                lot: lot,
                kind: .plan,
                expiresAt: expiresAt
            )
        case 1:
            let lot = LotID(Identifier.make("lot_"))
            await world.add(lot: lot, expiresAt: nil)
            operation = .deposit(
                account: account,
                source: .purchases,
                amount: amount,
                lot: lot,
                kind: .purchased,
                expiresAt: nil
            )
        case 2:
            operation = .transfer(from: account, to: wallets[step.other % wallets.count], amount: amount)
        case 3, 4:
            let hold = HoldID(Identifier.make("hold_"))
            await world.add(hold: hold)
            operation = .reserve(
                hold: hold,
                account: account,
                amount: amount,
                reference: "msg-\(hold)",
                timeoutAt: instant.addingTimeInterval(TimeInterval(60 * (1 + step.other % 4)))
            )
        case 5 where !holds.isEmpty:
            operation = .post(hold: holds[step.other % holds.count], amount: Credits(milli: Int64(step.pick % 3) * 500))
        case 6 where !holds.isEmpty:
            operation = .void(hold: holds[step.other % holds.count])
        case 7 where !holds.isEmpty:
            operation = .timeOut(hold: holds[step.other % holds.count], policy: step.pick % 2 == 0 ? .post : .void)
        case 8 where !lots.isEmpty:
            operation = .expire(lot: lots[step.other % lots.count].0)
        case 9:
            operation = .withdraw(account: account, amount: amount)
        default:
            operation = .spend(account: account, amount: amount, reference: "call-\(step.code)")
        }
        return LedgerRequest(
            organization: org.organization,
            idempotencyKey: Identifier.make("key_"),
            operation: operation,
            at: instant,
            actor: "property",
            memo: operation.name
        )
    }
}
