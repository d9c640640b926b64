import CreditsAdapters
import CreditsCore
import CreditsServer
import CreditsServices
import CreditsStore
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// Purchases through Stripe (a local Stripe-shaped server): an answer that is unknown or still
/// in flight is never taken as final, and every charge that succeeded ends with its credits
/// added exactly once — including bank debits that stay `processing` for days.
@Suite struct StripePurchaseTests {
    static let stores = TestDatabase.available

    /// Runs `body` with a server whose gateway is the local Stripe.
    static func withStripe(
        _ store: TestDatabase,
        method: String,
        _ body: @escaping @Sendable (TestServer, StripeTestServer, TestServer.Org) async throws -> Void
    ) async throws {
        let stripe = StripeTestServer()
        try await stripe.application().test(.live) { client in
            let url = "http://127.0.0.1:\(try #require(client.port))"
            try await TestServer.with(store, configure: StripePurchaseTests.gateway(url)) { server in
                let org = try await server.makeOrganization()
                let saved = try await server.request(
                    .put,
                    "/v1/billing/payment-method",
                    key: org.ownerKey,
                    json: #"{"token": "\#(method)"}"#
                )
                #expect(saved.status == .ok, "\(saved.text)")
                try await body(server, stripe, org)
            }
        }
    }

    static func gateway(_ url: String) -> @Sendable (inout AppConfiguration) -> Void {
        { $0.gateway = .stripe(StripeConfiguration(secretKey: StripeTestServer.secretKey, apiURL: url)) }
    }

    @Test(arguments: stores)
    func aRepeatWhileTheFirstChargeIsInFlightNeverFailsThePurchase(_ store: TestDatabase) async throws {
        try await StripePurchaseTests.withStripe(store, method: "pm_card_visa") { server, stripe, org in
            stripe.hold()
            let first = Task { try await BillingTests.buy(server, org, credits: 100, key: "buy-1") }
            await stripe.waitForHeldCharge()
            let repeated = try await BillingTests.buy(server, org, credits: 100, key: "buy-1")
            #expect(repeated.status == .serviceUnavailable, "\(repeated.text)")
            #expect(repeated.errorCode == "payment_unconfirmed")
            // Once a look-up is due, the repeat asks Stripe: nothing found yet, so it charges
            // under the same key, gets Stripe's 409 (the first is in progress) — still unknown.
            server.clock.advance(BillingService.reconcileAfter + 1)
            let whileInFlight = try await BillingTests.buy(server, org, credits: 100, key: "buy-1")
            #expect(whileInFlight.errorCode == "payment_unconfirmed", "\(whileInFlight.text)")
            #expect(stripe.requests.contains { $0.path == "/v1/payment_intents" && $0.method == "POST" })
            stripe.release()
            let answered = try await first.value
            #expect(answered.status == .created, "\(answered.text)")
            #expect(try answered.object()["status"] as? String == "succeeded")
            let replayed = try await BillingTests.buy(server, org, credits: 100, key: "buy-1")
            #expect(try replayed.object()["status"] as? String == "succeeded")
            #expect(try await server.pool(org)["posted"] as? Double == 100)
            #expect(stripe.intentsCreated == 1, "charged once")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func aChargeWhoseAnswerWasLostIsFoundByItsKeyNotChargedAgain(_ store: TestDatabase) async throws {
        try await StripePurchaseTests.withStripe(store, method: "pm_card_answerLost") { server, stripe, org in
            let lost = try await BillingTests.buy(server, org, credits: 100, key: "buy-lost")
            #expect(lost.errorCode == "payment_unconfirmed", "\(lost.text)")
            #expect(try await server.pool(org)["posted"] as? Double == 0)
            #expect(try await server.services.billing.reconcile() == 0, "a minute to finish on its own")
            server.clock.advance(BillingService.reconcileAfter + 1)
            #expect(try await server.services.billing.reconcile() == 1)
            #expect(stripe.requests.last?.path == "/v1/payment_intents/search")
            #expect(try await server.services.billing.reconcile() == 0)
            #expect(try await server.pool(org)["posted"] as? Double == 100)
            #expect(stripe.intentsCreated == 1, "found, not charged again")
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test func aBankDebitProcessingForDaysIsCreditedOnceWhenItClears() async throws {
        try await StripePurchaseTests.withStripe(.sqlite, method: "pm_usBankAccount") { server, stripe, org in
            let debit = try await BillingTests.buy(server, org, credits: 500, key: "buy-ach")
            #expect(debit.errorCode == "payment_unconfirmed", "\(debit.text)")
            let intent = try #require(stripe.lastIntent)
            // Three days of the reconciliation job (every 10 s in the server; here every 5 min).
            for _ in 0..<(3 * 24 * 12) {
                server.clock.advance(300)
                #expect(try await server.services.billing.reconcile() == 0)
            }
            #expect(try await server.pool(org)["posted"] as? Double == 0, "no credits while the money is not there")
            #expect(stripe.lookUps < 120, "asked about hourly once it is old, not every pass: \(stripe.lookUps)")
            #expect(
                stripe.requests.filter { $0.method == "GET" }.allSatisfy { $0.path == "/v1/payment_intents/\(intent)" }
            )
            stripe.finishDebit(intent, succeeded: true)
            server.clock.advance(PurchaseCheck.longest)
            #expect(try await server.services.billing.reconcile() == 1)
            server.clock.advance(PurchaseCheck.longest)
            #expect(try await server.services.billing.reconcile() == 0)
            #expect(try await server.pool(org)["posted"] as? Double == 500)
            let replayed = try await BillingTests.buy(server, org, credits: 500, key: "buy-ach")
            #expect(try replayed.object()["status"] as? String == "succeeded")
            #expect(stripe.intentsCreated == 1)
            #expect(try await server.verifyLedger() == [])
        }
    }

    @Test(arguments: stores)
    func anAutoRenewDebitReturnedLaterTurnsAutoRenewOffWithTheBanner(_ store: TestDatabase) async throws {
        try await StripePurchaseTests.withStripe(store, method: "pm_usBankAccount") { server, stripe, org in
            try await server.fund(org, credits: 50)
            #expect(try await AutoRenewTests.autoRenew(server, org, credits: 200, threshold: 100).status == .ok)
            #expect(try await server.services.autoRenew.runDue() == 0, "the debit is processing")
            let intent = try #require(stripe.lastIntent)
            #expect(try await server.request(.get, "/v1/notices", key: org.ownerKey).list().isEmpty)
            stripe.finishDebit(intent, succeeded: false)
            server.clock.advance(BillingService.reconcileAfter + 1)
            #expect(try await server.services.billing.reconcile() == 1)
            let settings = try await server.request(.get, "/v1/credits/auto-renew", key: org.ownerKey).object()
            #expect(settings["enabled"] as? Bool == false)
            #expect(settings["failed_purchase"] is String)
            let log = try await server.request(
                .get,
                "/v1/audit-log?action=credits.auto_renew_failed",
                key: org.ownerKey
            ).list()
            #expect(log.compactMap { $0["message"] as? String } == [AutoRenewService.failureSentence])
            let notices = try await server.request(.get, "/v1/notices", key: org.ownerKey).list()
            #expect(notices.map { $0["code"] as? String } == ["auto_renew_failed"])
            #expect(try await server.services.autoRenew.runDue() == 0, "nothing else is bought")
            #expect(try await server.pool(org)["available"] as? Double == 50)
            #expect(stripe.intentsCreated == 1)
            #expect(try await server.verifyLedger() == [])
        }
    }
}
