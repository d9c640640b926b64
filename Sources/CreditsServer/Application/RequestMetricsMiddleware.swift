import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Counts and times every request under the labels and dimensions of Hummingbird's own
/// `MetricsMiddleware` (`hb.requests`, `hb.request.errors`, `http.server.request.duration`,
/// `http.server.active_requests`, which `ServerMetrics` names for Prometheus), without taking
/// away the server's fast path for answers already in memory.
///
/// Hummingbird's middleware wraps every response body in a closure to record after the body is
/// written, and a wrapped body is written as three writes with a flush each (head, body, end)
/// instead of one: two `write` system calls and three hops to the event loop per JSON answer
/// (`POST /v1/estimate` answered 10–14 % more requests a second without it). Here an answer of
/// known length is recorded when the route returns it and left as it is. That is a buffer or
/// nothing in this server; a body that streams but declares its length (a file read by
/// Hummingbird's `FileIO`, which no route uses) would be recorded before it is written, as the
/// body's kind cannot be told from outside Hummingbird. A streamed answer (a CSV download, a
/// campaign's event stream) is recorded after its last byte, or once when its body is dropped
/// unwritten (the client left before the head went). A thrown refusal is recorded with the
/// status the error middleware will answer with (a refusal's own, 503 for a busy store), not 500.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let metrics = RequestMetricsCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let start = DispatchTime.now().uptimeNanoseconds
        let active = metrics.active(request.method)
        active.increment()
        @Sendable func elapsed() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds - start) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = ErrorMiddleware.known(error)?.status ?? .internalServerError
            let endpoint = metrics.endpoint(context.endpointPath ?? "NotFound", request.method, status)
            endpoint.requests.increment()
            endpoint.errors.increment()
            endpoint.duration.recordNanoseconds(elapsed())
            active.decrement()
            throw error
        }
        let endpoint = metrics.endpoint(context.endpointPath ?? "Unknown", request.method, response.status)
        @Sendable func record() {
            endpoint.requests.increment()
            endpoint.duration.recordNanoseconds(elapsed())
            active.decrement()
        }
        guard response.body.contentLength == nil else {
            record()
            return response
        }
        let once = RecordOnce(record)
        let body = response.body
        response.body = ResponseBody { writer in
            defer { once() }
            try await body.write(writer)
        }
        return response
    }
}

/// Runs its action once: when called, or else when dropped (a streamed body never written).
final class RecordOnce: Sendable {
    private let done = Atomic(false)
    private let action: @Sendable () -> Void

    init(_ action: @escaping @Sendable () -> Void) { self.action = action }

    func callAsFunction() {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        action()
    }

    deinit { callAsFunction() }
}

/// The metric handles by method and by route, method and status, made once each.
final class RequestMetricsCache: Sendable {
    struct Endpoint: Sendable {
        let requests: Counter
        let errors: Counter
        let duration: Metrics.Timer
    }

    private struct EndpointKey: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    private let methods = Mutex<[HTTPRequest.Method: Meter]>([:])
    private let endpoints = Mutex<[EndpointKey: Endpoint]>([:])

    /// Requests of a method being answered now.
    func active(_ method: HTTPRequest.Method) -> Meter {
        methods.withLock { cache in
            if let meter = cache[method] { return meter }
            let meter = Meter(
                label: "http.server.active_requests",
                dimensions: [("http.request.method", method.description)]
            )
            cache[method] = meter
            return meter
        }
    }

    /// The counters and timer of a route, method and status.
    func endpoint(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> Endpoint {
        endpoints.withLock { cache in
            let key = EndpointKey(route: route, method: method, status: status.code)
            if let endpoint = cache[key] { return endpoint }
            let dimensions = [
                ("http.route", route), ("http.request.method", method.description),
                ("http.response.status_code", String(status.code)),
            ]
            let endpoint = Endpoint(
                requests: Counter(label: "hb.requests", dimensions: dimensions),
                errors: Counter(
                    label: "hb.request.errors",
                    dimensions: [
                        ("http.route", route), ("http.request.method", method.description),
                        ("error.type", String(status.code)),
                    ]
                ),
                duration: Metrics.Timer(
                    label: "http.server.request.duration",
                    dimensions: dimensions,
                    preferredDisplayUnit: .seconds
                )
            )
            cache[key] = endpoint
            return endpoint
        }
    }
}
