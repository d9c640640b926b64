import CreditsCore
import CreditsServices
import Foundation
import Hummingbird

/// An error a client can act on: an HTTP status, a stable code, a sentence, and optionally the
/// field it is about and a shortfall. Rendered as `{"error": {"code", "message", …}}`.
public struct APIError: Error, HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var shortfall: Credits?
    /// Seconds after which asking again should work (sent as `Retry-After`), when the refusal is
    /// only for now.
    public var retryAfter: Int?

    public init(
        _ status: HTTPResponse.Status,
        _ code: String,
        _ message: String,
        field: String? = nil,
        shortfall: Credits? = nil,
        retryAfter: Int? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.shortfall = shortfall
        self.retryAfter = retryAfter
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
            let field: String?
            let shortfall: Credits?
        }

        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: .init(code: code, message: message, field: field, shortfall: shortfall))
        var response = try JSONOutput.response(body, status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    // MARK: Common errors

    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, "not_found", "\(what) was not found.")
    }
    public static let unauthorized = APIError(
        .unauthorized,
        "unauthorized",
        "Send a valid API key as \"Authorization: Bearer KEY\"."
    )
    public static func forbidden(_ permission: Permission) -> APIError {
        APIError(AccessError(permission))
    }
    public static func invalid(_ field: String, _ message: String, code: String = "field_invalid") -> APIError {
        APIError(.unprocessableContent, code, message, field: field)
    }
    /// The database stayed locked by another writer past the store's wait: nothing was changed.
    public static let storeBusy = APIError(
        .serviceUnavailable,
        "store_busy",
        "The server is busy with other changes and did not make this one; please try again in a moment.",
        retryAfter: 2
    )
    public static let idempotencyKeyRequired = APIError(
        .badRequest,
        "idempotency_key_required",
        "This request moves credits or money: send an Idempotency-Key header of 1–200 printable ASCII characters, such as a UUID."
    )
}

extension HTTPResponse.Status {
    /// 402: the balance does not cover the request.
    public static let paymentRequired402 = HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
}

extension APIError {
    /// The HTTP form of a service's refusal: its code, sentence, field and shortfall as they are,
    /// with the status its kind calls for.
    public init(_ error: any DomainError) {
        self.init(
            APIError.status(for: error.kind),
            error.code,
            error.message,
            field: error.field,
            shortfall: error.shortfall
        )
    }

    /// The one place a kind of refusal becomes an HTTP status. Exhaustive, so a new kind does not
    /// compile until someone decides its status.
    public static func status(for kind: RefusalKind) -> HTTPResponse.Status {
        switch kind {
        case .invalid: .unprocessableContent
        case .notFound: .notFound
        case .forbidden: .forbidden
        case .unauthenticated: .unauthorized
        case .conflict: .conflict
        case .paymentRequired: .paymentRequired402
        case .tooManyRequests: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .upstreamFailed: .badGateway
        }
    }
}
