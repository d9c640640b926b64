import CreditsServices
import Hummingbird

/// Registers routes on a Hummingbird router and remembers them, so the OpenAPI test can check
/// that every route is documented. Paths are written in OpenAPI style (`/v1/staff/{id}`).
public final class RouteTable: @unchecked Sendable {
    // Safe: routes are only added while the application is being built, on one task.
    public private(set) var routes: [(method: HTTPRequest.Method, path: String)] = []
    let router: Router<AppRequestContext>

    init(router: Router<AppRequestContext>) { self.router = router }

    public typealias Handler = @Sendable (Request, AppRequestContext) async throws -> Response

    /// Adds a route on the router (with the given middleware in front) and to the table.
    func add(
        _ method: HTTPRequest.Method,
        _ path: String,
        through group: RouterGroup<AppRequestContext>? = nil,
        _ handler: @escaping Handler
    ) {
        routes.append((method, path))
        let hummingbirdPath = RouterPath(
            path.split(separator: "/").map { part in
                part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : part
            }.joined(separator: "/")
        )
        if let group {
            group.on(hummingbirdPath, method: method, use: handler)
        } else {
            router.on(hummingbirdPath, method: method, use: handler)
        }
    }
}

extension Request {
    /// A query parameter, nil when absent or empty.
    func query(_ name: String) -> String? {
        guard let value = uri.queryParameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    /// The `Idempotency-Key` header, required on requests that move credits or money.
    func idempotencyKey() throws -> String {
        let key = headers.first { $0.name.canonicalName == "idempotency-key" }?.value
        guard let key, IdempotencyKeys.isValid(key) else {
            throw APIError.idempotencyKeyRequired
        }
        return key
    }

    /// True when the client asked for CSV (`Accept: text/csv` or `?format=csv`); `format` is
    /// csv or json.
    func wantsCSV() throws -> Bool {
        try format(among: ["csv", "json"]) == "csv" || (headers[.accept]?.contains("text/csv") ?? false)
    }

    /// The `format` asked for, one of `allowed`, or nil when none was.
    func format(among allowed: [String]) throws -> String? {
        guard let format = query("format") else { return nil }
        guard allowed.contains(format) else {
            throw APIError(
                .badRequest,
                "query_invalid",
                "format is \(allowed.joined(separator: " or ")).",
                field: "format"
            )
        }
        return format
    }
}

extension AppRequestContext {
    /// A path parameter.
    func parameter(_ name: String) throws -> String {
        guard let value = parameters.get(name) else { throw APIError.notFound("The resource") }
        return value
    }
}

extension RouteTable {
    /// Answers 405 with an Allow header for methods a known path does not take (Hummingbird
    /// alone would answer 404).
    func addMethodNotAllowed() {
        let methods: [HTTPRequest.Method] = [
            .get, .post, .put, .patch, .delete, .head, .options, .trace, .connect, HTTPRequest.Method("QUERY")!,
        ]
        var byPath: [String: [HTTPRequest.Method]] = [:]
        for route in routes { byPath[route.path, default: []].append(route.method) }
        for (path, allowed) in byPath {
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            let hummingbirdPath = RouterPath(
                path.split(separator: "/").map { part in
                    part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : part
                }.joined(separator: "/")
            )
            for method in methods where !allowed.contains(method) {
                router.on(hummingbirdPath, method: method) { _, _ -> Response in
                    var error = APIError(.methodNotAllowed, "method_not_allowed", "\(path) accepts \(allow).")
                    error.field = nil
                    throw AllowError(error: error, allow: allow)
                }
            }
        }
    }
}

/// A 405 that carries its Allow header.
struct AllowError: HTTPResponseError {
    let error: APIError
    let allow: String
    var status: HTTPResponse.Status { error.status }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try error.response(from: request, context: context)
        response.headers[.allow] = allow
        return response
    }
}
