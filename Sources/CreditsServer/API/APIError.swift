import CreditsCore
import CreditsStore
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

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil, shortfall: Credits? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.shortfall = shortfall
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
        return response
    }

    // MARK: Common errors

    public static func notFound(_ what: String) -> APIError { APIError(.notFound, "not_found", "\(what) was not found.") }
    public static let unauthorized = APIError(.unauthorized, "unauthorized", "Send a valid API key as \"Authorization: Bearer KEY\".")
    public static func forbidden(_ permission: Permission) -> APIError {
        APIError(.forbidden, "forbidden", "This needs the \(permission.rawValue) permission.")
    }
    public static func invalid(_ field: String, _ message: String, code: String = "field_invalid") -> APIError {
        APIError(.unprocessableContent, code, message, field: field)
    }
    public static let idempotencyKeyRequired = APIError(.badRequest, "idempotency_key_required",
                                                        "This request moves credits or money: send an Idempotency-Key header (1–200 characters).")
}

extension HTTPResponse.Status {
    /// 402: the balance does not cover the request.
    public static let paymentRequired402 = HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
}

extension APIError {
    /// The HTTP form of a ledger refusal. One exhaustive switch, so a new case does not compile
    /// until someone decides its status.
    public init(_ error: LedgerError) {
        let status: HTTPResponse.Status
        switch error {
        case .insufficientCredits: status = .paymentRequired402
        case .nonPositiveAmount, .wrongAccountKind, .sameAccount, .postExceedsHold, .invalidIdempotencyKey: status = .unprocessableContent
        case .unknownAccount, .unknownHold, .unknownLot: status = .notFound
        case .holdAlreadyResolved, .holdNotTimedOut, .lotNotExpiring, .duplicateID, .idempotencyConflict: status = .conflict
        }
        self.init(status, error.code, error.message, shortfall: error.shortfall)
    }

    /// The HTTP form of a refused message text.
    public init(_ error: MessageError, field: String = "body") {
        let field: String = switch error {
        case .partTooLong(let part, _): part.rawValue
        case .bodyEmpty, .bodyTooLong, .composedTooLong, .mergeFieldUnknown, .mergeFieldEmpty, .mergeFieldMalformed: field
        }
        self.init(.unprocessableContent, error.code, error.message, field: field)
    }

    /// The HTTP form of refused settings.
    public init(_ error: SettingsError) {
        self.init(.unprocessableContent, error.code, error.message, field: error.field)
    }

    /// The HTTP form of a refused phone number.
    public init(_ error: PhoneNumberError, field: String = "phone") {
        self.init(.unprocessableContent, error.code, error.message, field: field)
    }

    /// The HTTP form of a storage failure a client caused (a conflict) or not (anything else).
    public init(_ error: StoreError) {
        switch error {
        case .conflict(let what): self.init(.conflict, "conflict", what.prefix(1).uppercased() + what.dropFirst() + ".")
        case .notFound(let what): self.init(.notFound, "not_found", "\(what) was not found.")
        case .invalidURL, .schemaTooNew, .unreadableRow: self.init(.internalServerError, "internal", "Something went wrong on our side.")
        }
    }
}
