import CreditsServices
import Hummingbird

/// A refusal of a signed-in staff member's page (a permission they lack, something not found) is
/// shown inside the portal's layout, with the navigation, so they can go on from there. The
/// outer `ErrorMiddleware` still answers everything else: the API, the pages' scripts, errors
/// before sign-in, and anything unexpected (logged as a 500).
struct WebRefusalMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: WebPages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            guard context.principal != nil, ErrorMiddleware.wantsPage(request),
                let known = ErrorMiddleware.known(error), let refusal = ErrorMiddleware.pageError(known),
                refusal.status.code < 500
            else { throw error }
            var response = try await pages.page(
                "error",
                title: WebErrorPage.heading(refusal),
                section: "",
                request: request,
                context: context,
                values: WebErrorPage.values(refusal),
                status: refusal.status
            )
            if let retryAfter = refusal.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
            return response
        }
    }
}
