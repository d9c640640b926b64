import AsyncHTTPClient
import CreditsCore
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Stripe's secret key and address.
public struct StripeConfiguration: Sendable {
    public var secretKey: String
    /// https://api.stripe.com; tests point it at a local server.
    public var apiURL: String

    public init(secretKey: String, apiURL: String = "https://api.stripe.com") {
        self.secretKey = secretKey
        self.apiURL = apiURL
    }
}

/// The Stripe REST API: customers, payment methods from Stripe's own form (`pm_…`, attached to
/// the organisation's customer), and off-session PaymentIntents confirmed at once.
public struct StripeGateway: PaymentGateway {
    public let name = "stripe"
    let configuration: StripeConfiguration
    let httpClient: HTTPClient

    public init(configuration: StripeConfiguration, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    public func register(_ input: PaymentMethodInput, for customer: PaymentCustomer) async throws(PaymentError)
        -> RegisteredPaymentMethod
    {
        guard case .token(let token) = input else {
            throw PaymentError(
                kind: .invalid,
                code: "token_required",
                message: "With Stripe, card and bank details go to Stripe's own form; send the pm_… token it returns."
            )
        }
        var customerID = customer.id
        if customerID == nil {
            let created = try await call(
                "/v1/customers",
                form: [
                    ("name", customer.name), ("email", customer.email),
                    ("metadata[organization_id]", customer.organizationID),
                ],
                idempotencyKey: "customer-\(customer.organizationID)"
            )
            guard let id = created["id"] as? String else {
                throw PaymentError(kind: .temporary, code: "no_id", message: "Stripe did not return a customer id.")
            }
            customerID = id
        }
        let attached = try await call(
            "/v1/payment_methods/\(StripeGateway.pathSafe(token))/attach",
            form: [("customer", customerID ?? "")],
            idempotencyKey: nil
        )
        return RegisteredPaymentMethod(
            method: try StripeGateway.details(attached, token: token),
            customerID: customerID
        )
    }

    public func charge(_ request: ChargeRequest) async throws(PaymentError) -> ChargeStatus {
        var form = [
            ("amount", String(request.amountCents)), ("currency", request.currency.lowercased()),
            ("payment_method", request.paymentMethodToken),
            ("confirm", "true"), ("off_session", "true"), ("description", request.description),
            ("metadata[idempotency_key]", request.idempotencyKey),
        ]
        if let customer = request.customerID { form.append(("customer", customer)) }
        let intent = try await call("/v1/payment_intents", form: form, idempotencyKey: request.idempotencyKey)
        return try StripeGateway.status(of: intent, amountCents: request.amountCents)
    }

    public func lookUp(idempotencyKey: String, chargeID: String?) async throws(PaymentError) -> ChargeStatus? {
        let intent: [String: Any]
        if let chargeID {
            intent = try await call("/v1/payment_intents/\(StripeGateway.pathSafe(chargeID))", method: .GET)
        } else {
            // Every PaymentIntent we create carries its idempotency key in its metadata.
            let query = "metadata['idempotency_key']:'\(StripeGateway.searchSafe(idempotencyKey))'"
            let found = try await call(
                "/v1/payment_intents/search?" + FormEncoding.encode([("query", query), ("limit", "10")]),
                method: .GET
            )
            let intents = found["data"] as? [[String: Any]] ?? []
            guard let first = intents.first(where: { $0["status"] as? String == "succeeded" }) ?? intents.first else {
                return nil
            }
            intent = first
        }
        return try StripeGateway.status(of: intent, amountCents: nil)
    }

    /// What a PaymentIntent's status means for the purchase.
    static func status(of intent: [String: Any], amountCents: Int64?) throws(PaymentError) -> ChargeStatus {
        guard let id = intent["id"] as? String else {
            throw PaymentError(kind: .temporary, code: "no_id", message: "Stripe did not return a PaymentIntent id.")
        }
        let status = intent["status"] as? String
        switch status {
        case "succeeded":
            let received = integer(intent["amount_received"]) ?? amountCents ?? integer(intent["amount"]) ?? 0
            return .succeeded(Charge(id: id, amountCents: received))
        case "processing", "requires_capture":
            // A bank debit: the money is not there yet, so no credits until it is.
            return .processing(chargeID: id)
        case "requires_action", "requires_confirmation":
            throw PaymentError(
                kind: .authenticationRequired,
                code: "authentication_required",
                message: "The bank asked the cardholder to confirm this payment; it cannot be charged automatically."
            )
        case "requires_payment_method":
            // Confirmed at once, so this means the attempt failed (a decline, a returned debit).
            let failure = StripeGateway.error(status: 402, intent["last_payment_error"] as? [String: Any] ?? [:])
            if failure.isFinal, failure.kind != .invalid { throw failure }
            throw PaymentError(
                kind: .declined,
                code: failure.code.hasPrefix("http_") ? "payment_failed" : failure.code,
                message: failure.message
            )
        case "canceled":
            throw PaymentError(kind: .declined, code: "canceled", message: "The payment was canceled.")
        default:
            throw PaymentError(
                kind: .temporary,
                code: status ?? "unknown",
                message: "Stripe has not confirmed the payment yet."
            )
        }
    }

    /// Calls Stripe with its authentication (a form POST, or a GET); returns the JSON object or
    /// throws the mapped error.
    func call(
        _ path: String,
        method: HTTPMethod = .POST,
        form: [(String, String)] = [],
        idempotencyKey: String? = nil
    ) async throws(PaymentError) -> [String: Any] {
        var request = HTTPClientRequest(url: configuration.apiURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.secretKey)")
        if method == .POST {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        let status: Int
        let body: ByteBuffer
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(30))
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw PaymentError(kind: .temporary, code: "network", message: "Stripe could not be reached: \(error)")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
        guard (200..<300).contains(status) else {
            throw StripeGateway.error(status: status, json["error"] as? [String: Any] ?? [:])
        }
        return json
    }

    /// Stripe's errors as payment errors: decline codes first, then the error's code and type.
    public static func error(status: Int, _ error: [String: Any]) -> PaymentError {
        let code = error["code"] as? String
        let declineCode = error["decline_code"] as? String
        let message = error["message"] as? String ?? "Stripe answered \(status)."
        switch (declineCode, code) {
        case ("insufficient_funds", _):
            return PaymentError(kind: .insufficientFunds, code: "insufficient_funds", message: message)
        case (_, "expired_card"): return PaymentError(kind: .expired, code: "expired_card", message: message)
        case (_, "authentication_required"), ("authentication_required", _):
            return PaymentError(kind: .authenticationRequired, code: "authentication_required", message: message)
        case (let decline?, "card_declined"): return PaymentError(kind: .declined, code: decline, message: message)
        case (_, "card_declined"), (_, "incorrect_cvc"), (_, "processing_error"), (_, "incorrect_number"):
            return PaymentError(kind: .declined, code: code ?? "card_declined", message: message)
        default: break
        }
        // The same key still being worked on (409), a request clashing with one in flight, or a
        // lock Stripe could not take: the first request's outcome is unknown, never a failure.
        if status == 409 || error["type"] as? String == "idempotency_error" || code == "idempotency_key_in_use"
            || code == "lock_timeout"
        {
            return PaymentError(kind: .temporary, code: code ?? "idempotency_key_in_use", message: message)
        }
        if status == 401 || error["type"] as? String == "authentication_error" {
            return PaymentError(
                kind: .configuration,
                code: "authentication_error",
                message: "Stripe refused our API key."
            )
        }
        if status == 429 || status >= 500 {
            return PaymentError(kind: .temporary, code: code ?? "http_\(status)", message: message)
        }
        return PaymentError(
            kind: .invalid,
            code: code ?? error["type"] as? String ?? "http_\(status)",
            message: message
        )
    }

    static func details(_ method: [String: Any], token: String) throws(PaymentError) -> PaymentMethodDetails {
        if let card = method["card"] as? [String: Any] {
            return PaymentMethodDetails(
                token: token,
                kind: .card,
                brand: card["brand"] as? String ?? "card",
                last4: card["last4"] as? String ?? "",
                expMonth: integer(card["exp_month"]).map(Int.init),
                expYear: integer(card["exp_year"]).map(Int.init)
            )
        }
        if let bank = method["us_bank_account"] as? [String: Any] {
            return PaymentMethodDetails(
                token: token,
                kind: .bankAccount,
                brand: bank["bank_name"] as? String ?? "bank",
                last4: bank["last4"] as? String ?? ""
            )
        }
        throw PaymentError(
            kind: .invalid,
            code: "unsupported_method",
            message: "Only cards and US bank accounts can be kept on file."
        )
    }

    static func integer(_ value: Any?) -> Int64? {
        if let number = value as? NSNumber { return number.int64Value }
        if let text = value as? String { return Int64(text) }
        return nil
    }

    /// A value inside a search query's single quotes (our keys are letters, digits, `_`, `-`, `:`).
    static func searchSafe(_ value: String) -> String {
        String(value.unicodeScalars.filter { $0 != "'" && $0 != "\\" && $0.value >= 0x20 }.map(Character.init))
    }

    /// A token as one path segment (Stripe ids are [A-Za-z0-9_]).
    static func pathSafe(_ token: String) -> String {
        String(token.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "_" }.map(Character.init))
    }
}
