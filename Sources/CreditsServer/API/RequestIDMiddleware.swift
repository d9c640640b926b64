import CreditsStore
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id: the client's `X-Request-Id` when it is one (1–64 letters, digits,
/// `.`, `_`, `-`), else a new one. The id is returned in the response's `X-Request-Id`, set as
/// `request_id` on the request's logger, and bound to the task (`RequestID.current`) so work the
/// request queues keeps it for the background jobs that finish it.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let id = request.headers[.requestID].flatMap(RequestID.init) ?? RequestID.make()
        var identified = context
        identified.logger[metadataKey: "request_id"] = .string(id.rawValue)
        let context = identified
        var response = try await RequestID.$current.withValue(id) { try await next(request, context) }
        response.headers[.requestID] = id.rawValue
        return response
    }
}

extension HTTPField.Name {
    /// `X-Request-Id`: the request's id, as the client sent it or as the server made it.
    static let requestID = Self("X-Request-Id")!
}
