import Foundation
import Hummingbird

/// Headers every response carries: no content-type sniffing, no referrer sent to other sites,
/// and — when the server is reached over https — HSTS and `Secure` on every cookie, so a browser
/// never falls back to http nor sends a session over it.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// True when the public URL is https.
    let https: Bool
    /// Behind a proxy the operator trusts, that proxy's word that the client used https counts too
    /// (an operator who left out `--public-url`); nobody else's does.
    let forwarded: ForwardedHeaders

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
        if https || forwarded.isHTTPS(request, context: context) {
            response.headers[.init("Strict-Transport-Security")!] = "max-age=31536000; includeSubDomains"
            let cookies = response.headers[values: .setCookie]
            if !cookies.isEmpty { response.headers[values: .setCookie] = cookies.map(SecurityHeadersMiddleware.secure) }
        }
        return response
    }

    /// A `Set-Cookie` value with the `Secure` attribute (added once).
    static func secure(_ cookie: String) -> String {
        let attributes = cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        return attributes.contains { $0.lowercased() == "secure" } ? cookie : cookie + "; Secure"
    }
}
