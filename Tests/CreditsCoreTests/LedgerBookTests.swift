import Foundation
import Testing

@testable import CreditsCore

/// A book for one organisation with a pool, two wallets and the outside accounts.
struct BookFixture {
    static let org = OrganizationID("org-1")
    static let pool = AccountID("pool")
    static let alice = AccountID("wallet-alice")
    static let bob = AccountID("wallet-bob")
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    var book: LedgerBook
    var sequence = 0

    init(overdraft: Credits = .zero) {
        var accounts = [
            LedgerAccount(id: BookFixture.pool, kind: .pool, overdraftLimit: overdraft),
            LedgerAccount(id: BookFixture.alice, kind: .wallet, staffID: "alice"),
            LedgerAccount(id: BookFixture.bob, kind: .wallet, staffID: "bob"),
        ]
        for kind in AccountKind.allCases where !kind.holdsCredits {
            accounts.append(LedgerAccount(id: AccountID(kind.rawValue), kind: kind))
        }
        let counter = Counter()
        book = LedgerBook(
            organization: BookFixture.org,
            accounts: accounts,
            lots: [],
            portions: [:],
            holds: [],
            results: [:],
            makeTransferID: { TransferID("t\(counter.next())") }
        )
    }

    static func credits(_ value: Int64) -> Credits { Credits(credits: value) }
    static func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    @discardableResult
    mutating func apply(_ operation: LedgerOperation, at seconds: TimeInterval = 0, key: String? = nil) -> Result<
        LedgerOutcome, LedgerError
    > {
        sequence += 1
        return book.apply(
            LedgerRequest(
                organization: BookFixture.org,
                idempotencyKey: key ?? "k\(sequence)",
                operation: operation,
                at: BookFixture.at(seconds)
            )
        )
    }

    mutating func buy(_ amount: Int64, into account: AccountID = pool, lot: String, at seconds: TimeInterval = 0) {
        _ = apply(
            .deposit(
                account: account,
                source: .purchases,
                amount: BookFixture.credits(amount),
                lot: LotID(lot),
                kind: .purchased,
                expiresAt: nil
            ),
            at: seconds
        )
    }

    mutating func grant(
        _ amount: Int64,
        into account: AccountID = pool,
        lot: String,
        expiresIn: TimeInterval,
        at seconds: TimeInterval = 0
    ) {
        _ = apply(
            .deposit(
                account: account,
                source: .planGrants,
                amount: BookFixture.credits(amount),
                lot: LotID(lot),
                kind: .plan,
                expiresAt: BookFixture.at(seconds + expiresIn)
            ),
            at: seconds
        )
    }

    func balance(_ account: AccountID) -> Credits { book.accounts[account]?.balance ?? .zero }
    func pending(_ account: AccountID) -> Credits { book.accounts[account]?.pending ?? .zero }
    func portion(_ account: AccountID, _ lot: String) -> Portion? {
        book.portions[PortionKey(account: account, lot: LotID(lot))]
    }
}

/// A thread-safe counter for ids in tests.
final class Counter: @unchecked Sendable {
    // Safe: every access goes through `lock`.
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

@Suite struct LedgerBookTests {
    typealias F = BookFixture

    @Test func aPurchaseAddsANeverExpiringLot() throws {
        var fixture = F()
        fixture.buy(100, lot: "p1")
        #expect(fixture.balance(F.pool) == F.credits(100))
        #expect(fixture.balance(AccountID("purchases")) == F.credits(-100))
        #expect(fixture.book.lots[LotID("p1")]?.expiresAt == nil)
        #expect(fixture.book.changes.entries.count == 1)
        #expect(fixture.book.changes.entries[0].creditBalanceAfter == F.credits(100))
    }

    @Test func spendingDrawsExpiringLotsFirstThenTheOldestPurchase() throws {
        var fixture = F()
        fixture.buy(10, lot: "old-purchase", at: 0)
        fixture.buy(10, lot: "new-purchase", at: 10)
        fixture.grant(10, lot: "plan-late", expiresIn: 2000, at: 20)
        fixture.grant(10, lot: "plan-soon", expiresIn: 1000, at: 30)
        let result = fixture.apply(.spend(account: F.pool, amount: F.credits(25), reference: "msg-1"), at: 40)
        #expect(try result.get().amount == F.credits(25))
        #expect(fixture.portion(F.pool, "plan-soon")?.balance == .zero)
        #expect(fixture.portion(F.pool, "plan-late")?.balance == .zero)
        #expect(fixture.portion(F.pool, "old-purchase")?.balance == F.credits(5))
        #expect(fixture.portion(F.pool, "new-purchase")?.balance == F.credits(10))
    }

    @Test func aReserveOverTheAvailableBalanceIsRefusedAndChangesNothing() {
        var fixture = F()
        fixture.buy(5, lot: "p1")
        let before = fixture.book.changes
        let result = fixture.apply(
            .reserve(hold: HoldID("h1"), account: F.pool, amount: F.credits(6), reference: "m", timeoutAt: F.at(100))
        )
        #expect(result == .failure(.insufficientCredits(available: F.credits(5), requested: F.credits(6))))
        #expect(fixture.book.changes == before)
        #expect(fixture.pending(F.pool) == .zero)
    }

    @Test func aHoldReducesAvailableButNotPostedCredits() throws {
        var fixture = F()
        fixture.buy(5, lot: "p1")
        _ = try fixture.apply(
            .reserve(hold: HoldID("h1"), account: F.pool, amount: F.credits(2), reference: "m", timeoutAt: F.at(100))
        ).get()
        #expect(fixture.balance(F.pool) == F.credits(5))
        #expect(fixture.pending(F.pool) == F.credits(2))
        #expect(fixture.book.spendable(F.pool, at: F.at(1)) == F.credits(3))
    }

    @Test func aPartialPostChargesPartAndReleasesTheRest() throws {
        var fixture = F()
        fixture.buy(10, lot: "p1")
        _ = fixture.apply(
            .reserve(hold: HoldID("h1"), account: F.pool, amount: F.credits(3), reference: "msg", timeoutAt: F.at(100))
        )
        let outcome = try fixture.apply(.post(hold: HoldID("h1"), amount: F.credits(2)), at: 5).get()
        #expect(outcome.amount == F.credits(2))
        #expect(outcome.released == F.credits(1))
        #expect(fixture.balance(F.pool) == F.credits(8))
        #expect(fixture.pending(F.pool) == .zero)
        #expect(fixture.balance(AccountID("usage")) == F.credits(2))
        #expect(fixture.book.changes.entries.last?.reference == "msg")
    }

    @Test func aVoidedHoldChargesNothing() throws {
        var fixture = F()
        fixture.buy(10, lot: "p1")
        _ = fixture.apply(
            .reserve(hold: HoldID("h1"), account: F.pool, amount: F.credits(3), reference: "msg", timeoutAt: F.at(100))
        )
        _ = try fixture.apply(.void(hold: HoldID("h1")), at: 5).get()
        #expect(fixture.balance(F.pool) == F.credits(10))
        #expect(fixture.book.spendable(F.pool, at: F.at(6)) == F.credits(10))
    }

    @Test func aHoldResolvesExactlyOnce() throws {
        var fixture = F()
        fixture.buy(10, lot: "p1")
        _ = fixture.apply(
            .reserve(hold: HoldID("h1"), account: F.pool, amount: F.credits(3), reference: "msg", timeoutAt: F.at(100))
        )
        _ = try fixture.apply(.post(hold: HoldID("h1"), amount: F.credits(3))).get()
        #expect(fixture.apply(.void(hold: HoldID("h1"))) == .failure(.holdAlreadyResolved(HoldID("h1"), .posted)))
        #expect(
            fixture.apply(.post(hold: HoldID("h1"), amount: F.credits(3)))
                == .failure(.holdAlreadyResolved(HoldID("h1"), .posted))
        )
        #expect(fixture.balance(F.pool) == F.credits(7))
    }

    @Test func theSameKeyReturnsTheFirstResultAndADifferentRequestIsRefused() throws {
        var fixture = F()
        fixture.buy(10, lot: "p1")
        let first = try fixture.apply(.spend(account: F.pool, amount: F.credits(1), reference: "m"), key: "once").get()
        let again = try fixture.apply(.spend(account: F.pool, amount: F.credits(1), reference: "m"), key: "once").get()
        #expect(again.replayed)
        #expect(again.transfer == first.transfer)
        #expect(fixture.balance(F.pool) == F.credits(9))
        #expect(
            fixture.apply(.spend(account: F.pool, amount: F.credits(2), reference: "m"), key: "once")
                == .failure(.idempotencyConflict(key: "once"))
        )
    }

    @Test func expiryMovesWhatIsLeftAtTheExactInstant() throws {
        var fixture = F()
        fixture.grant(10, lot: "plan", expiresIn: 1000)
        #expect(fixture.apply(.expire(lot: LotID("plan")), at: 999.999) == .failure(.lotNotExpiring(LotID("plan"))))
        #expect(fixture.book.spendable(F.pool, at: F.at(999.999)) == F.credits(10))
        #expect(fixture.book.spendable(F.pool, at: F.at(1000)) == .zero)
        let outcome = try fixture.apply(.expire(lot: LotID("plan")), at: 1000).get()
        #expect(outcome.amount == F.credits(10))
        #expect(fixture.balance(AccountID("expired")) == F.credits(10))
        #expect(fixture.balance(F.pool) == .zero)
    }

    @Test func aHoldKeepsItsPortionsThroughExpiryAndAVoidSendsThemToExpired() throws {
        var fixture = F()
        fixture.grant(10, lot: "plan", expiresIn: 1000)
        _ = try fixture.apply(
            .reserve(hold: HoldID("h1"), account: F.pool, amount: F.credits(4), reference: "m", timeoutAt: F.at(5000))
        ).get()
        _ = try fixture.apply(.expire(lot: LotID("plan")), at: 1000).get()
        #expect(fixture.balance(F.pool) == F.credits(4))
        #expect(fixture.pending(F.pool) == F.credits(4))
        _ = try fixture.apply(.void(hold: HoldID("h1")), at: 1001).get()
        #expect(fixture.balance(F.pool) == .zero)
        #expect(fixture.balance(AccountID("expired")) == F.credits(10))
    }

    @Test func aTransferKeepsLotsAndTheirExpiry() throws {
        var fixture = F()
        fixture.grant(10, lot: "plan", expiresIn: 1000)
        fixture.buy(10, lot: "bought")
        _ = try fixture.apply(.transfer(from: F.pool, to: F.alice, amount: F.credits(15))).get()
        #expect(fixture.portion(F.alice, "plan")?.balance == F.credits(10))
        #expect(fixture.portion(F.alice, "bought")?.balance == F.credits(5))
        _ = try fixture.apply(.expire(lot: LotID("plan")), at: 1000).get()
        #expect(fixture.balance(F.alice) == F.credits(5))
        #expect(fixture.balance(F.pool) == F.credits(5))
    }

    @Test func anOverdraftLineIsBoundedAndRepaidFirst() throws {
        var fixture = F(overdraft: F.credits(5))
        fixture.buy(2, lot: "p1")
        _ = try fixture.apply(.spend(account: F.pool, amount: F.credits(6), reference: "m1")).get()
        #expect(fixture.balance(F.pool) == F.credits(-4))
        #expect(
            fixture.apply(.spend(account: F.pool, amount: F.credits(2), reference: "m2"))
                == .failure(.insufficientCredits(available: F.credits(1), requested: F.credits(2)))
        )
        fixture.buy(10, lot: "p2", at: 5)
        #expect(fixture.balance(F.pool) == F.credits(6))
        #expect(fixture.portion(F.pool, "p2")?.balance == F.credits(6))
        #expect(fixture.book.spendable(F.pool, at: F.at(6), includingOverdraft: false) == F.credits(6))
    }

    @Test func aTimeOutWaitsForTheTimeoutAndFollowsThePolicy() throws {
        var fixture = F()
        fixture.buy(10, lot: "p1")
        _ = fixture.apply(
            .reserve(hold: HoldID("h1"), account: F.pool, amount: F.credits(3), reference: "m", timeoutAt: F.at(100))
        )
        #expect(
            fixture.apply(.timeOut(hold: HoldID("h1"), policy: .post), at: 99)
                == .failure(.holdNotTimedOut(HoldID("h1")))
        )
        let outcome = try fixture.apply(.timeOut(hold: HoldID("h1"), policy: .post), at: 100).get()
        #expect(outcome.holdStatus == .timedOut)
        #expect(fixture.balance(F.pool) == F.credits(7))
    }

    @Test func aWithdrawalTakesOnlyAvailableCredits() {
        var fixture = F()
        fixture.buy(5, lot: "p1")
        _ = fixture.apply(
            .reserve(hold: HoldID("h1"), account: F.pool, amount: F.credits(3), reference: "m", timeoutAt: F.at(100))
        )
        #expect(
            fixture.apply(.withdraw(account: F.pool, amount: F.credits(3)))
                == .failure(.insufficientCredits(available: F.credits(2), requested: F.credits(3)))
        )
        #expect((try? fixture.apply(.withdraw(account: F.pool, amount: F.credits(2))).get()) != nil)
        #expect(fixture.balance(AccountID("adjustments")) == F.credits(2))
    }

    @Test func invalidRequestsAreRefused() {
        var fixture = F()
        #expect(fixture.apply(.spend(account: F.pool, amount: .zero, reference: "m")) == .failure(.nonPositiveAmount))
        #expect(fixture.apply(.transfer(from: F.pool, to: F.pool, amount: F.credits(1))) == .failure(.sameAccount))
        #expect(
            fixture.apply(.spend(account: AccountID("usage"), amount: F.credits(1), reference: "m"))
                == .failure(.wrongAccountKind(AccountID("usage"), .usage))
        )
        #expect(fixture.apply(.void(hold: HoldID("nope"))) == .failure(.unknownHold(HoldID("nope"))))
        #expect(
            fixture.apply(.spend(account: F.pool, amount: F.credits(1), reference: "m"), key: "")
                == .failure(.invalidIdempotencyKey)
        )
    }
}

@Suite struct MessageStatusTests {
    @Test func messagesOnlyMoveForwardAndNeverLeaveAFinalStatus() {
        #expect(MessageStatus.queued.accepts(.sending))
        #expect(MessageStatus.queued.accepts(.delivered))
        #expect(MessageStatus.sent.accepts(.undelivered))
        #expect(!MessageStatus.sent.accepts(.sending))
        #expect(!MessageStatus.sent.accepts(.sent))
        for final in [MessageStatus.delivered, .undelivered, .failed, .canceled] {
            for next in MessageStatus.allCases { #expect(!final.accepts(next), "\(final) → \(next)") }
        }
    }

    @Test func deliveredAndUndeliveredAreChargedFailedAndCanceledAreNot() {
        #expect(MessageStatus.delivered.settlement == .post)
        #expect(MessageStatus.undelivered.settlement == .post)
        #expect(MessageStatus.failed.settlement == .void)
        #expect(MessageStatus.canceled.settlement == .void)
        #expect(MessageStatus.sent.settlement == nil)
    }

    @Test func theChargeIsTheProvidersSegmentsButNeverMoreThanHeld() {
        let held = Credits(credits: 2)
        #expect(
            SettlementCharge.credits(held: held, providerSegments: 1, channel: .sms, prices: .standard)
                == Credits(credits: 1)
        )
        #expect(SettlementCharge.credits(held: held, providerSegments: 3, channel: .sms, prices: .standard) == held)
        #expect(SettlementCharge.credits(held: held, providerSegments: nil, channel: .sms, prices: .standard) == held)
        #expect(
            SettlementCharge.credits(held: Credits(credits: 2), providerSegments: 5, channel: .mms, prices: .standard)
                == Credits(credits: 2)
        )
    }
}
