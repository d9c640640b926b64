import CreditsAdapters
import CreditsCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// The Stripe client against a local Stripe-shaped server: it checks the key, replays a
/// request with a known Idempotency-Key, and declines the way Stripe's test payment methods do.
@Suite struct StripeGatewayTests {
    final class FakeStripe: Sendable {
        struct Seen: Sendable {
            let path: String
            let form: [String: String]
            let idempotencyKey: String?
            let authorization: String?
        }

        let seen = Mutex<[Seen]>([])
        let replies = Mutex<[String: (HTTPResponse.Status, [String: Any])]>([:])
        let intents = Mutex(0)

        var requests: [Seen] { seen.withLock { $0 } }

        func application() -> some ApplicationProtocol {
            let router = Router()
            router.post("/v1/customers") { request, _ in
                try await self.answer(request) { _ in (.ok, ["id": "cus_1", "object": "customer"]) }
            }
            router.post("/v1/payment_methods/:id/attach") { request, context in
                let id = context.parameters.get("id") ?? ""
                return try await self.answer(request) { _ in
                    id == "pm_unknown"
                        ? (
                            .notFound,
                            [
                                "error": [
                                    "type": "invalid_request_error", "code": "resource_missing",
                                    "message": "No such PaymentMethod: 'pm_unknown'",
                                ]
                            ]
                        )
                        : (
                            .ok,
                            [
                                "id": id, "type": "card",
                                "card": ["brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2040],
                            ]
                        )
                }
            }
            router.post("/v1/payment_intents") { request, _ in
                try await self.answer(request) { form in
                    let declined = [
                        "type": "card_error", "code": "card_declined", "message": "Your card was declined.",
                    ]
                    switch form["payment_method"] {
                    case "pm_card_chargeDeclined":
                        return (
                            .init(code: 402), ["error": declined.merging(["decline_code": "generic_decline"]) { $1 }]
                        )
                    case "pm_card_chargeDeclinedInsufficientFunds":
                        return (
                            .init(code: 402),
                            [
                                "error": declined.merging([
                                    "decline_code": "insufficient_funds",
                                    "message": "Your card has insufficient funds.",
                                ]) { $1 }
                            ]
                        )
                    case "pm_card_authenticationRequired":
                        return (
                            .init(code: 402),
                            [
                                "error": [
                                    "type": "card_error", "code": "authentication_required",
                                    "message": "This payment requires authentication.",
                                ]
                            ]
                        )
                    case "pm_card_flaky":
                        return (
                            .internalServerError, ["error": ["type": "api_error", "message": "Something went wrong."]]
                        )
                    default:
                        let number = self.intents.withLock {
                            $0 += 1
                            return $0
                        }
                        return (
                            .ok,
                            [
                                "id": "pi_\(number)", "object": "payment_intent", "status": "succeeded",
                                "amount": Int(form["amount"] ?? "0") ?? 0,
                                "amount_received": Int(form["amount"] ?? "0") ?? 0,
                            ]
                        )
                    }
                }
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }

        /// Checks the key, records the request, and replays the first reply for a repeated key.
        func answer(_ request: Request, _ reply: @Sendable ([String: String]) -> (HTTPResponse.Status, [String: Any]))
            async throws -> Response
        {
            var request = request
            let form = FormEncoding.decode(String(buffer: try await request.collectBody(upTo: 1 << 16)))
            let key = request.headers.first { $0.name.canonicalName == "idempotency-key" }?.value
            seen.withLock {
                $0.append(
                    Seen(
                        path: request.uri.path,
                        form: form,
                        idempotencyKey: key,
                        authorization: request.headers[.authorization]
                    )
                )
            }
            guard request.headers[.authorization] == "Bearer sk_test_123" else {
                return try json(
                    .unauthorized,
                    ["error": ["type": "authentication_error", "message": "Invalid API Key provided."]]
                )
            }
            let (status, body) = replies.withLock { stored in
                if let key, let first = stored[key] { return first }
                let fresh = reply(form)
                if let key { stored[key] = fresh }
                return fresh
            }
            return try json(status, body)
        }

        func json(_ status: HTTPResponse.Status, _ object: [String: Any]) throws -> Response {
            Response(
                status: status,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
            )
        }
    }

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
        let stripe = FakeStripe()
        try await stripe.application().test(.live) { client in
            let gateway = gateway(try #require(client.port))
            let charged = try await gateway.charge(charge("pm_card_visa"))
            #expect(charged == Charge(id: "pi_1", amountCents: 880))
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
            #expect(try await gateway.charge(charge("pm_card_visa")) == Charge(id: "pi_1", amountCents: 880))
            #expect(stripe.intents.withLock { $0 } == 1)
        }
    }

    @Test func declinesAreMappedToStableKinds() async throws {
        let stripe = FakeStripe()
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
        let stripe = FakeStripe()
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
}
