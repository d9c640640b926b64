import Hummingbird
import Logging

/// Every error leaves as `{"error": {"code", "message"}}`: API errors as they are, Hummingbird's
/// own (unknown route, body too large) with their status, and anything else as a 500 that says
/// nothing about internals (it is logged instead).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            throw ErrorMiddleware.translate(error)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, "internal", "Something went wrong on our side; it has been logged.")
        }
    }

    static func translate(_ error: HTTPError) -> APIError {
        switch error.status.code {
        case 404: return APIError(.notFound, "not_found", "There is nothing at this address.")
        case 405: return APIError(.methodNotAllowed, "method_not_allowed", "This address does not accept that method.")
        case 413: return APIError(.contentTooLarge, "body_too_large", "The request body is too large.")
        case 400..<500: return APIError(error.status, "bad_request", error.body ?? "The request could not be understood.")
        default: return APIError(.internalServerError, "internal", "Something went wrong on our side; it has been logged.")
        }
    }
}
