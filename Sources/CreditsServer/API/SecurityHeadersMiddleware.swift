import Hummingbird

/// Headers every response carries: no content-type sniffing, no referrer sent to other sites,
/// and — when the server is reached over https — HSTS, so a browser never falls back to http.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// True when the public URL is https.
    let https: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // Refusals get the headers too: render them here rather than after this middleware.
            response = try error.response(from: request, context: context)
        }
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "same-origin"
        if https { response.headers[.init("Strict-Transport-Security")!] = "max-age=31536000; includeSubDomains" }
        return response
    }
}
