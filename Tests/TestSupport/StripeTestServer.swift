import CreditsAdapters
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// A local server shaped like Stripe's API, for the Stripe client and for purchases end to end.
/// It checks the secret key, keeps PaymentIntents, replays the first answer for a repeated
/// Idempotency-Key, answers 409 to a key whose first request is still in progress (as Stripe
/// does), finds intents by id and by metadata search, and behaves by payment method as Stripe's
/// test methods do:
/// - `pm_card_visa` (and any other) succeeds;
/// - `pm_card_chargeDeclined`, `pm_card_chargeDeclinedInsufficientFunds`,
///   `pm_card_authenticationRequired` are declined (the intent stays `requires_payment_method`);
/// - `pm_card_flaky` answers 500 without creating anything;
/// - `pm_card_answerLost` is charged, but the first answer is a 500 (the network dropped it);
/// - `pm_usBankAccount…` is a bank debit: `processing` until the test calls `finishDebit`.
public final class StripeTestServer: Sendable {
    public struct Seen: Sendable {
        public let method: String
        public let path: String
        public let form: [String: String]
        public let idempotencyKey: String?
        public let authorization: String?
    }

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let body: Data
    }

    struct State {
        var seen: [Seen] = []
        var intents: [String: [String: any Sendable]] = [:]
        var order: [String] = []
        var replies: [String: Reply] = [:]
        var inFlight: Set<String> = []
        var holding = false
        var held: [CheckedContinuation<Void, Never>] = []
        var arrivals: [CheckedContinuation<Void, Never>] = []
    }

    let state = Mutex(State())
    public static let secretKey = "sk_test_123"

    public init() {}

    /// Every request, in order.
    public var requests: [Seen] { state.withLock { $0.seen } }
    /// How many PaymentIntents were created.
    public var intentsCreated: Int { state.withLock { $0.order.count } }
    /// How many times an intent was looked up (by id or by search).
    public var lookUps: Int { state.withLock { $0.seen.filter { $0.method == "GET" }.count } }
    /// An intent's status.
    public func status(of intent: String) -> String? { state.withLock { $0.intents[intent]?["status"] as? String } }
    /// The newest intent's id.
    public var lastIntent: String? { state.withLock { $0.order.last } }

    /// From now on, new charges wait (in progress at "Stripe") until `release`.
    public func hold() { state.withLock { $0.holding = true } }

    /// Lets waiting charges finish.
    public func release() {
        let waiting = state.withLock { state in
            state.holding = false
            defer { state.held = [] }
            return state.held
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once a charge is waiting in `hold`.
    public func waitForHeldCharge() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.held.isEmpty {
                    state.arrivals.append(continuation)
                    return false
                }
                return true
            }
            if ready { continuation.resume() }
        }
    }

    /// Settles a bank debit: paid, or returned for insufficient funds.
    public func finishDebit(_ intent: String, succeeded: Bool) {
        state.withLock { state in
            guard var object = state.intents[intent] else { return }
            if succeeded {
                object["status"] = "succeeded"
                object["amount_received"] = object["amount"]
            } else {
                object["status"] = "requires_payment_method"
                object["last_payment_error"] = [
                    "type": "card_error", "code": "payment_intent_payment_attempt_failed",
                    "decline_code": "insufficient_funds",
                    "message": "The customer's account has insufficient funds to cover this payment.",
                ]
            }
            state.intents[intent] = object
        }
    }

    public func application() -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/customers") { request, _ in
            try await self.answer(request) { _, _ in (.ok, ["id": "cus_1", "object": "customer"]) }
        }
        router.post("/v1/payment_methods/:id/attach") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await self.answer(request) { _, _ in StripeTestServer.attach(id) }
        }
        router.post("/v1/payment_intents") { request, _ in
            try await self.answer(request) { form, key in await self.createIntent(form, key: key) }
        }
        router.get("/v1/payment_intents/search") { request, _ in
            try await self.answer(request) { _, _ in
                let query = request.uri.queryParameters.get("query") ?? ""
                let key = StripeTestServer.quoted(in: query) ?? ""
                let found = self.state.withLock { state in
                    state.order.compactMap { state.intents[$0] }.filter {
                        ($0["metadata"] as? [String: String])?["idempotency_key"] == key
                    }
                }
                return (.ok, ["object": "search_result", "data": found, "has_more": false])
            }
        }
        router.get("/v1/payment_intents/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await self.answer(request) { _, _ in
                guard let intent = self.state.withLock({ $0.intents[id] }) else {
                    return (
                        .notFound,
                        [
                            "error": [
                                "type": "invalid_request_error", "code": "resource_missing",
                                "message": "No such payment_intent: '\(id)'",
                            ]
                        ]
                    )
                }
                return (.ok, intent)
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func attach(_ id: String) -> (HTTPResponse.Status, [String: any Sendable]) {
        if id == "pm_unknown" {
            return (
                .notFound,
                [
                    "error": [
                        "type": "invalid_request_error", "code": "resource_missing",
                        "message": "No such PaymentMethod: 'pm_unknown'",
                    ]
                ]
            )
        }
        if id.hasPrefix("pm_usBankAccount") {
            return (
                .ok,
                [
                    "id": id, "type": "us_bank_account",
                    "us_bank_account": ["bank_name": "STRIPE TEST BANK", "last4": "6789"],
                ]
            )
        }
        return (
            .ok,
            [
                "id": id, "type": "card",
                "card": ["brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2040] as [String: any Sendable],
            ]
        )
    }

    /// The value between the last pair of single quotes of a search query.
    static func quoted(in query: String) -> String? {
        let parts = query.split(separator: "'", omittingEmptySubsequences: false)
        return parts.count >= 3 ? String(parts[parts.count - 2]) : nil
    }

    func createIntent(_ form: [String: String], key: String?) async -> (HTTPResponse.Status, [String: any Sendable]) {
        let mustWait = state.withLock { state in state.holding }
        if mustWait {
            await withCheckedContinuation { continuation in
                let arrivals = state.withLock { state in
                    state.held.append(continuation)
                    defer { state.arrivals = [] }
                    return state.arrivals
                }
                for arrival in arrivals { arrival.resume() }
            }
        }
        let method = form["payment_method"] ?? ""
        if method == "pm_card_flaky" {
            return (.internalServerError, ["error": ["type": "api_error", "message": "Something went wrong."]])
        }
        let amount = Int(form["amount"] ?? "0") ?? 0
        let declined: [String: any Sendable]? =
            switch method {
            case "pm_card_chargeDeclined":
                [
                    "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                    "message": "Your card was declined.",
                ]
            case "pm_card_chargeDeclinedInsufficientFunds":
                [
                    "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                ]
            case "pm_card_authenticationRequired":
                [
                    "type": "card_error", "code": "authentication_required",
                    "message": "This payment requires authentication.",
                ]
            default: nil
            }
        let status =
            declined != nil
            ? "requires_payment_method" : (method.hasPrefix("pm_usBankAccount") ? "processing" : "succeeded")
        let intent = state.withLock { state in
            let id = "pi_\(state.order.count + 1)"
            var object: [String: any Sendable] = [
                "id": id, "object": "payment_intent", "status": status, "amount": amount,
                "amount_received": status == "succeeded" ? amount : 0,
                "currency": form["currency"] ?? "usd", "payment_method": method,
                "metadata": ["idempotency_key": form["metadata[idempotency_key]"] ?? ""],
            ]
            if let declined { object["last_payment_error"] = declined }
            state.intents[id] = object
            state.order.append(id)
            return object
        }
        if var declined {
            declined["payment_intent"] = intent
            return (.init(code: 402), ["error": declined])
        }
        return (.ok, intent)
    }

    /// Checks the key, records the request, answers 409 while the same key is in progress, and
    /// replays the first answer for a repeated key.
    func answer(
        _ request: Request,
        _ reply: @Sendable ([String: String], String?) async -> (HTTPResponse.Status, [String: any Sendable])
    ) async throws -> Response {
        var request = request
        let form = FormEncoding.decode(String(buffer: try await request.collectBody(upTo: 1 << 16)))
        let key = request.headers.first { $0.name.canonicalName == "idempotency-key" }?.value
        state.withLock { state in
            state.seen.append(
                Seen(
                    method: request.method.rawValue,
                    path: request.uri.path,
                    form: form,
                    idempotencyKey: key,
                    authorization: request.headers[.authorization]
                )
            )
        }
        guard request.headers[.authorization] == "Bearer \(StripeTestServer.secretKey)" else {
            return try StripeTestServer.json(
                .unauthorized,
                ["error": ["type": "authentication_error", "message": "Invalid API Key provided."]]
            )
        }
        enum Admission {
            case replay(Reply)
            case conflict
            case fresh
        }
        let admission: Admission = state.withLock { state in
            guard let key else { return .fresh }
            if let first = state.replies[key] { return .replay(first) }
            if state.inFlight.contains(key) { return .conflict }
            state.inFlight.insert(key)
            return .fresh
        }
        switch admission {
        case .replay(let first):
            return StripeTestServer.response(first)
        case .conflict:
            return try StripeTestServer.json(
                .conflict,
                [
                    "error": [
                        "type": "idempotency_error", "code": "idempotency_key_in_use",
                        "message":
                            "There is currently another in-progress request using this Stripe API key and idempotency key. Please try again later.",
                    ]
                ]
            )
        case .fresh:
            let (status, body) = await reply(form, key)
            let stored = Reply(status: status, body: try JSONSerialization.data(withJSONObject: body))
            let lostAnswer = form["payment_method"] == "pm_card_answerLost"
            state.withLock { state in
                guard let key else { return }
                state.inFlight.remove(key)
                if status != .internalServerError || lostAnswer { state.replies[key] = stored }
            }
            if lostAnswer, request.uri.path == "/v1/payment_intents" {
                return try StripeTestServer.json(
                    .internalServerError,
                    ["error": ["type": "api_error", "message": "The connection dropped."]]
                )
            }
            return StripeTestServer.response(stored)
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: any Sendable]) throws -> Response {
        response(Reply(status: status, body: try JSONSerialization.data(withJSONObject: object)))
    }

    static func response(_ reply: Reply) -> Response {
        Response(
            status: reply.status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: reply.body))
        )
    }
}
