import Hummingbird
import Logging

/// Logs each request's method and path at info level, with secrets in paths cut out: a
/// password-reset link's token must not sit in the server's logs for the hour it works.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        context.logger.info(
            "Request",
            metadata: [
                "hb.request.method": .string(request.method.rawValue),
                "hb.request.path": .string(RequestLog.path(request.uri.path)),
            ]
        )
        return try await next(request, context)
    }
}

/// How request paths are written to logs.
enum RequestLog {
    /// The path with the token of a password-reset link replaced.
    static func path(_ path: String) -> String {
        path.hasPrefix("/password-reset/") ? "/password-reset/[token]" : path
    }
}
