import CreditsCore
import CreditsServices
import CreditsStore
import Hummingbird

/// Guards portal pages: a request needs a live session cookie (pages redirect to sign-in, the
/// pages' script endpoints answer 401), and every request that is not a read must carry the
/// session's CSRF token, as a `_csrf` form field or an `X-CSRF-Token` header.
struct WebSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let sessions: SessionService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        var request = request
        guard let token = request.cookies[SessionService.cookieName]?.value,
            let (principal, session) = try await sessions.resolve(token)
        else {
            if request.uri.path.hasPrefix("/app/") { throw APIError.unauthorized }
            let next = request.method == .get ? request.uri.description : "/dashboard"
            return WebResponse.redirect(
                "/sign-in?next=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
            )
        }
        context.principal = principal
        context.webSession = session
        if request.method != .get && request.method != .head {
            var presented = request.headers.first { $0.name.canonicalName == WebResponse.csrfHeader }?.value
            // A form is read whether its token came in a header (a script's post) or in the form.
            if request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
                let form = try await WebForm.read(&request)
                context.form = form
                presented = presented ?? form.value("_csrf")
            } else if presented == nil, request.headers[.contentType]?.hasPrefix("multipart/form-data") == true {
                let form = try await WebForm.readMultipart(&request, forMedia: request.uri.path == "/app/media")
                context.form = form
                presented = form.value("_csrf")
            }
            guard let presented, APIKeys.constantTimeEqual(presented, session.csrfToken) else {
                throw APIError(
                    .forbidden,
                    "csrf_invalid",
                    "This form is out of date or did not come from this site. Reload the page and try again."
                )
            }
        }
        return try await next(request, context)
    }
}

extension WebForm {
    /// Reads a form body (at most the API's body size).
    static func read(_ request: inout Request) async throws -> WebForm {
        do {
            return WebForm(encoded: String(buffer: try await request.collectBody(upTo: JSONInput.bodySizeMax)))
        } catch {
            throw APIError(
                .contentTooLarge,
                "body_too_large",
                "The form is larger than \(JSONInput.bodySizeMax / 1024) KB."
            )
        }
    }
}

extension AppRequestContext {
    /// The portal's signed-in staff member and the fields of the form they sent.
    func webForm() throws -> (Principal, WebForm) {
        (try authenticated(), form ?? WebForm(pairs: []))
    }
}
