import CreditsAdapters
import CreditsCore
import Foundation
import Synchronization
import Testing

@Suite struct SandboxGatewayTests {
    /// The Sandbox's log kept in memory.
    final class MemoryLog: SandboxChargeLog {
        let stored = Mutex<[String: SandboxChargeOutcome]>([:])
        func record(_ outcome: SandboxChargeOutcome) async throws -> SandboxChargeOutcome {
            stored.withLock { stored in
                if let first = stored[outcome.idempotencyKey] { return first }
                stored[outcome.idempotencyKey] = outcome
                return outcome
            }
        }
        func find(_ idempotencyKey: String) async throws -> SandboxChargeOutcome? {
            stored.withLock { $0[idempotencyKey] }
        }
    }

    /// A Sandbox whose clock says November 2026.
    let sandbox = SandboxGateway(log: MemoryLog(), now: { Date(timeIntervalSince1970: 1_795_000_000) })
    let customer = PaymentCustomer(id: nil, name: "Studio", email: "office@studio.example", organizationID: "org_1")

    func token(_ number: String, month: Int = 12, year: Int = 2040) async throws -> String {
        try await sandbox.register(.card(number: number, expMonth: month, expYear: year), for: customer).method.token
    }

    func charge(_ token: String, key: String, cents: Int64 = 300) -> ChargeRequest {
        ChargeRequest(
            amountCents: cents,
            currency: "USD",
            customerID: nil,
            paymentMethodToken: token,
            idempotencyKey: key,
            description: "credits"
        )
    }

    @Test func stripesTestCardsBehaveAsDocumented() async throws {
        let visa = try await token("4242 4242 4242 4242")
        guard case .succeeded(let paid) = try await sandbox.charge(charge(visa, key: "a")) else {
            Issue.record("4242 succeeds")
            return
        }
        #expect(paid.amountCents == 300)
        await #expect(throws: PaymentError(kind: .declined, code: "card_declined", message: "Your card was declined."))
        {
            try await sandbox.charge(charge(try await token("4000000000000002"), key: "b"))
        }
        await #expect(
            throws: PaymentError(
                kind: .insufficientFunds,
                code: "insufficient_funds",
                message: "Your card has insufficient funds."
            )
        ) {
            try await sandbox.charge(charge(try await token("4000000000009995"), key: "c"))
        }
    }

    @Test func theSameKeyReturnsTheFirstChargeAndADifferentAmountIsRefused() async throws {
        let visa = try await token("4242424242424242")
        let first = try await sandbox.charge(charge(visa, key: "same"))
        #expect(try await sandbox.charge(charge(visa, key: "same")) == first)
        await #expect(throws: PaymentError.self) { try await sandbox.charge(charge(visa, key: "same", cents: 301)) }
    }

    @Test func theLostAnswerCardIsChargedOnceAndFoundAgainByKey() async throws {
        let card = try await token("4000 0000 0000 0077")
        do {
            _ = try await sandbox.charge(charge(card, key: "lost"))
            Issue.record("the first answer is lost")
        } catch {
            #expect(error.kind == .temporary)
        }
        guard case .succeeded(let found) = try await sandbox.lookUp(idempotencyKey: "lost", chargeID: nil) else {
            Issue.record("the charge is found by its key")
            return
        }
        #expect(found.id.hasPrefix("pi_sandbox_"))
        #expect(try await sandbox.charge(charge(card, key: "lost")) == .succeeded(found))
        #expect(try await sandbox.lookUp(idempotencyKey: "never", chargeID: nil) == nil)
    }

    @Test func invalidOrExpiredCardsAreRefusedWhenSaved() async throws {
        await #expect(throws: PaymentError.self) { try await token("4242 4242 4242 4241") }
        await #expect(throws: PaymentError.self) { try await token("4242") }
        do {
            _ = try await token("4242424242424242", month: 10, year: 2026)
            Issue.record("October 2026 has passed")
        } catch let error as PaymentError {
            #expect(error.kind == .expired)
        }
        let thisMonth = try await token("4242424242424242", month: 11, year: 2026)
        #expect(thisMonth.hasPrefix("pm_sandbox_ok_"))
        let bank = try await sandbox.register(
            .bankAccount(routingNumber: "110000000", accountNumber: "000222222227", holderName: "Studio LLC"),
            for: customer
        )
        #expect(bank.method.kind == .bankAccount)
        #expect(bank.method.last4 == "2227")
        await #expect(throws: PaymentError.self) { try await sandbox.charge(charge(bank.method.token, key: "ach")) }
    }
}
