import CreditsServices
import Hummingbird

/// Authenticates `/v1` requests by `Authorization: Bearer KEY` (401 without a valid key).
///
/// Resolved principals are cached for a few seconds, so hot routes such as `/v1/estimate` do not
/// read the database on every keystroke; changes made through this process clear the cache at
/// once, and other processes see them within `cacheSeconds`.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let resolver: PrincipalResolver

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        if context.principal == nil {
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
                let principal = try await resolver.principal(forKey: String(header.dropFirst("Bearer ".count)))
            else {
                throw APIError.unauthorized
            }
            context.principal = principal
        }
        return try await next(request, context)
    }
}
