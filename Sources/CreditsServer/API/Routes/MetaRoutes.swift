import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus

/// `/openapi.yaml`, `/metrics`, `/health`, `/health/live`, `/health/ready`.
struct MetaRoutes {
    let database: any Database
    /// The bearer token `/metrics` wants; nil turns metrics off.
    let metricsToken: String?

    func add(to table: RouteTable) {
        let (database, metricsToken) = (database, metricsToken)
        table.add(.get, "/openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml; charset=utf-8"
            return Response(
                status: .ok,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text))
            )
        }
        table.add(.get, "/metrics") { request, _ in
            // The counts say how busy each organisation's routes are: only the operator's scraper reads them.
            guard let metricsToken else {
                throw APIError(
                    .notFound,
                    "metrics_off",
                    "Metrics are off: set TEXTCREDITS_METRICS_TOKEN and scrape with it as a bearer token."
                )
            }
            let presented = request.headers[.authorization].flatMap {
                $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil
            }
            guard let presented, APIKeys.constantTimeEqual(presented, metricsToken) else {
                throw APIError(
                    .unauthorized,
                    "unauthorized",
                    "Send the metrics token as \"Authorization: Bearer TOKEN\"."
                )
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: MetricsSetup.registry.emitToBuffer()))
            )
        }
        table.add(.get, "/health") { _, _ in
            try await database.ping()
            return try JSONOutput.response(["status": "ok"])
        }
        // Liveness: the process answers (a supervisor restarts it when this stops answering).
        table.add(.get, "/health/live") { _, _ in try JSONOutput.response(["status": "live"]) }
        // Readiness: the database answers and has every migration this program knows (a load
        // balancer sends traffic only to a ready server).
        table.add(.get, "/health/ready") { _, context in
            try await MetaRoutes.requireReady(database, logger: context.logger)
            return try JSONOutput.response(["status": "ready"])
        }
    }

    /// Throws the 503 that says why the server is not ready.
    static func requireReady(_ database: any Database, logger: Logger) async throws {
        let pending: [Migration]
        do {
            try await database.ping()
            pending = try await Migrator.pending(database)
        } catch {
            logger.warning(
                "not ready: the database does not answer",
                metadata: ["error": "\(String(reflecting: error))"]
            )
            throw APIError(.serviceUnavailable, "database_unreachable", "The database does not answer.", retryAfter: 5)
        }
        guard pending.isEmpty else {
            let versions = pending.map { String($0.version) }.joined(separator: ", ")
            let lacks = pending.count == 1 ? "migration \(versions)" : "migrations \(versions)"
            throw APIError(
                .serviceUnavailable,
                "migrations_behind",
                "The database lacks \(lacks), which this server needs: run textcredits migrate.",
                retryAfter: 5
            )
        }
    }
}

/// The OpenAPI document, read once from the bundle.
public enum OpenAPIDocument {
    public static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\n" }
        return text
    }()
}

/// One Prometheus registry for the process; swift-metrics is bootstrapped with it once, through
/// the factory that names and describes every metric (`ServerMetrics`).
public enum MetricsSetup {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DescribedMetricsFactory(registry: registry))
        return registry
    }()
}
