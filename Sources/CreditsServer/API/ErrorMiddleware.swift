import CreditsServices
import CreditsStore
import Hummingbird
import Logging

/// Every error leaves as `{"error": {"code", "message"}}`: API errors as they are, Hummingbird's
/// own (unknown route, body too large) with their status, and anything else as a 500 that says
/// nothing about internals (it is logged instead). A browser asking for a portal page gets the
/// same message as a page instead.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            guard let known = ErrorMiddleware.known(error) else {
                context.logger.error(
                    "request failed",
                    metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"]
                )
                let hidden = APIError(
                    .internalServerError,
                    "internal",
                    "Something went wrong on our side; it has been logged."
                )
                guard ErrorMiddleware.wantsPage(request) else { throw hidden }
                return WebErrorPage.response(hidden)
            }
            guard ErrorMiddleware.wantsPage(request), let apiError = ErrorMiddleware.pageError(known) else {
                throw known
            }
            return WebErrorPage.response(apiError)
        }
    }

    /// The error as an HTTP answer: Hummingbird's translated, a refusal with its kind's status, a
    /// busy store as 503; nil for anything unexpected (a 500 that is logged).
    static func known(_ error: any Error) -> (any HTTPResponseError)? {
        if let caught = error as? HTTPError { return ErrorMiddleware.translate(caught) }
        if let caught = error as? any DomainError { return APIError(caught) }
        if let caught = error as? StoreError, caught == .busy { return APIError.storeBusy }
        return error as? any HTTPResponseError
    }

    /// The error as a page shows it (status, code and sentence), when it is one a page can show.
    static func pageError(_ error: any HTTPResponseError) -> APIError? {
        (error as? APIError) ?? (error as? AllowError)?.error
    }

    /// True for a browser's request of a portal page (not the API, webhooks or the pages' scripts).
    static func wantsPage(_ request: Request) -> Bool {
        let path = request.uri.path
        guard !path.hasPrefix("/v1/"), !path.hasPrefix("/webhooks/"), !path.hasPrefix("/app/") else { return false }
        return request.headers[.accept]?.contains("text/html") ?? false
    }

    static func translate(_ error: HTTPError) -> APIError {
        switch error.status.code {
        case 404: return APIError(.notFound, "not_found", "There is nothing at this address.")
        case 405: return APIError(.methodNotAllowed, "method_not_allowed", "This address does not accept that method.")
        case 413: return APIError(.contentTooLarge, "body_too_large", "The request body is too large.")
        case 400..<500:
            return APIError(error.status, "bad_request", error.body ?? "The request could not be understood.")
        default:
            return APIError(.internalServerError, "internal", "Something went wrong on our side; it has been logged.")
        }
    }
}

/// The page a browser sees for an error: the message and a way back, never internals.
enum WebErrorPage {
    static func response(_ error: APIError) -> Response {
        var response = WebPages.bare("error", title: heading(error), values: values(error), status: error.status)
        if let retryAfter = error.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    /// The page's heading for the error's status.
    static func heading(_ error: APIError) -> String {
        switch error.status.code {
        case 401: "Please sign in"
        case 403: "Not available to you"
        case 404: "Not found"
        case 503: "Busy for a moment"
        case 500...: "Something went wrong"
        default: "That did not work"
        }
    }

    static func values(_ error: APIError) -> [String: Any] {
        [
            "heading": heading(error), "message": error.message, "code": error.code,
            "forbidden": error.status == .forbidden,
        ]
    }
}
