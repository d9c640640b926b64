import Hummingbird

/// Query strings of the API say each thing once and never say nothing: an empty value
/// (`?limit=`) or a repeated name (`?limit=5&limit=abc`) is refused with a sentence, instead of
/// one being quietly ignored. Portal pages are left alone (their filter forms send empty fields).
struct QueryRulesMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.uri.path.hasPrefix("/v1/") {
            var seen = Set<Substring>()
            for (name, value) in request.uri.queryParameters {
                guard seen.insert(name).inserted else {
                    throw APIError(
                        .badRequest,
                        "query_invalid",
                        "\(name) is given more than once.",
                        field: String(name)
                    )
                }
                guard !value.isEmpty else {
                    throw APIError(
                        .badRequest,
                        "query_invalid",
                        "\(name) is empty: leave it out or give a value.",
                        field: String(name)
                    )
                }
            }
        }
        return try await next(request, context)
    }
}
