import CreditsAdapters
import CreditsCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import TestSupport
import Testing

/// The Stripe client against a local Stripe-shaped server: it checks the key, replays a
/// request with a known Idempotency-Key, and declines the way Stripe's test payment methods do.
@Suite struct StripeGatewayTests {
    func gateway(_ port: Int, key: String = "sk_test_123") -> StripeGateway {
        StripeGateway(configuration: StripeConfiguration(secretKey: key, apiURL: "http://127.0.0.1:\(port)"))
    }

    func charge(_ method: String, key: String = "pur_1") -> ChargeRequest {
        ChargeRequest(
            amountCents: 880,
            currency: "USD",
            customerID: "cus_1",
            paymentMethodToken: method,
            idempotencyKey: key,
            description: "100 SMS credits"
        )
    }

    @Test func aChargeIsAnOffSessionPaymentIntentConfirmedAtOnceWithTheIdempotencyKey() async throws {
        let stripe = StripeTestServer()
        try await stripe.application().test(.live) { client in
            let gateway = gateway(try #require(client.port))
            let charged = try await gateway.charge(charge("pm_card_visa"))
            #expect(charged == .succeeded(Charge(id: "pi_1", amountCents: 880)))
            let request = try #require(stripe.requests.last)
            #expect(request.path == "/v1/payment_intents")
            #expect(request.authorization == "Bearer sk_test_123")
            #expect(request.idempotencyKey == "pur_1")
            #expect(request.form["amount"] == "880")
            #expect(request.form["currency"] == "usd")
            #expect(request.form["confirm"] == "true")
            #expect(request.form["off_session"] == "true")
            #expect(request.form["customer"] == "cus_1")
            #expect(request.form["payment_method"] == "pm_card_visa")
            // The same key after a crash finds the same PaymentIntent instead of charging again.
            #expect(
                try await gateway.charge(charge("pm_card_visa")) == .succeeded(Charge(id: "pi_1", amountCents: 880))
            )
            #expect(stripe.intentsCreated == 1)
        }
    }

    @Test func declinesAreMappedToStableKinds() async throws {
        let stripe = StripeTestServer()
        try await stripe.application().test(.live) { client in
            let gateway = gateway(try #require(client.port))
            let cases: [(String, PaymentError.Kind, String)] = [
                ("pm_card_chargeDeclined", .declined, "generic_decline"),
                ("pm_card_chargeDeclinedInsufficientFunds", .insufficientFunds, "insufficient_funds"),
                ("pm_card_authenticationRequired", .authenticationRequired, "authentication_required"),
                ("pm_card_flaky", .temporary, "http_500"),
            ]
            for (index, (method, kind, code)) in cases.enumerated() {
                do {
                    _ = try await gateway.charge(charge(method, key: "pur_\(index + 10)"))
                    Issue.record("\(method) should be refused")
                } catch let error as PaymentError {
                    #expect(error.kind == kind, "\(method)")
                    #expect(error.code == code, "\(method)")
                    #expect(error.isFinal == (kind != .temporary))
                }
            }
            do {
                _ = try await self.gateway(try #require(client.port), key: "sk_wrong").charge(
                    charge("pm_card_visa", key: "pur_x")
                )
                Issue.record("a wrong key should be refused")
            } catch let error as PaymentError {
                #expect(error.kind == .configuration)
                #expect(!error.isFinal, "a configuration problem leaves the outcome open, not declined")
            }
        }
    }

    @Test func aTokenFromStripesFormIsAttachedToTheOrganisationsCustomer() async throws {
        let stripe = StripeTestServer()
        try await stripe.application().test(.live) { client in
            let gateway = gateway(try #require(client.port))
            let customer = PaymentCustomer(
                id: nil,
                name: "Koala Swim School",
                email: "office@koala.example",
                organizationID: "org_1"
            )
            let registered = try await gateway.register(.token("pm_card_visa"), for: customer)
            #expect(registered.customerID == "cus_1")
            #expect(
                registered.method
                    == PaymentMethodDetails(
                        token: "pm_card_visa",
                        kind: .card,
                        brand: "visa",
                        last4: "4242",
                        expMonth: 12,
                        expYear: 2040
                    )
            )
            #expect(stripe.requests.map(\.path) == ["/v1/customers", "/v1/payment_methods/pm_card_visa/attach"])
            #expect(stripe.requests.first?.form["metadata[organization_id]"] == "org_1")
            #expect(stripe.requests.last?.form["customer"] == "cus_1")
            await #expect(throws: PaymentError.self) { try await gateway.register(.token("pm_unknown"), for: customer) }
            do {
                _ = try await gateway.register(
                    .card(number: "4242424242424242", expMonth: 1, expYear: 2040),
                    for: customer
                )
                Issue.record("raw card numbers never go to our Stripe client")
            } catch let error as PaymentError {
                #expect(error.code == "token_required")
            }
        }
    }

    @Test func aSecondRequestWhileTheFirstIsInFlightIsUnknownNeverDeclined() async throws {
        let stripe = StripeTestServer()
        try await stripe.application().test(.live) { client in
            let gateway = gateway(try #require(client.port))
            stripe.hold()
            let first = Task { try await gateway.charge(charge("pm_card_visa", key: "pur_inflight")) }
            await stripe.waitForHeldCharge()
            do {
                _ = try await gateway.charge(charge("pm_card_visa", key: "pur_inflight"))
                Issue.record("Stripe answers 409 while the key is in progress")
            } catch let error as PaymentError {
                #expect(error.kind == .temporary)
                #expect(error.code == "idempotency_key_in_use")
                #expect(!error.isFinal, "the first request may still take the money")
            }
            stripe.release()
            #expect(try await first.value == .succeeded(Charge(id: "pi_1", amountCents: 880)))
        }
    }

    @Test func aChargeIsFoundAgainByItsIdOrItsIdempotencyKey() async throws {
        let stripe = StripeTestServer()
        try await stripe.application().test(.live) { client in
            let gateway = gateway(try #require(client.port))
            #expect(try await gateway.lookUp(idempotencyKey: "pur_never", chargeID: nil) == nil, "never arrived")
            // The answer was lost, but Stripe took the money: the search by key finds it.
            await #expect(throws: PaymentError.self) {
                try await gateway.charge(charge("pm_card_answerLost", key: "pur_lost"))
            }
            #expect(
                try await gateway.lookUp(idempotencyKey: "pur_lost", chargeID: nil)
                    == .succeeded(Charge(id: "pi_1", amountCents: 880))
            )
            let search = try #require(stripe.requests.last)
            #expect(search.method == "GET")
            #expect(search.path == "/v1/payment_intents/search")
            // A bank debit stays processing, then is paid or returned.
            let debit = try await gateway.charge(charge("pm_usBankAccount", key: "pur_ach"))
            #expect(debit == .processing(chargeID: "pi_2"))
            #expect(
                try await gateway.lookUp(idempotencyKey: "pur_ach", chargeID: "pi_2") == .processing(chargeID: "pi_2")
            )
            stripe.finishDebit("pi_2", succeeded: true)
            #expect(
                try await gateway.lookUp(idempotencyKey: "pur_ach", chargeID: "pi_2")
                    == .succeeded(Charge(id: "pi_2", amountCents: 880))
            )
            _ = try await gateway.charge(charge("pm_usBankAccount", key: "pur_ach2"))
            stripe.finishDebit("pi_3", succeeded: false)
            do {
                _ = try await gateway.lookUp(idempotencyKey: "pur_ach2", chargeID: "pi_3")
                Issue.record("a returned debit is a final refusal")
            } catch let error as PaymentError {
                #expect(error.kind == .insufficientFunds)
                #expect(error.isFinal)
            }
            // A declined card's intent is found as declined, not as unknown.
            await #expect(throws: PaymentError.self) {
                try await gateway.charge(charge("pm_card_chargeDeclined", key: "pur_declined"))
            }
            do {
                _ = try await gateway.lookUp(idempotencyKey: "pur_declined", chargeID: nil)
                Issue.record("a declined intent is a final refusal")
            } catch let error as PaymentError {
                #expect(error.kind == .declined)
                #expect(error.code == "generic_decline")
            }
        }
    }
}
