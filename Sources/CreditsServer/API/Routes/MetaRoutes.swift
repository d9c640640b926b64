import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import Metrics
import Prometheus

/// `/openapi.yaml`, `/metrics`, `/health`.
struct MetaRoutes {
    let database: any Database

    func add(to table: RouteTable) {
        let database = database
        table.add(.get, "/openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml; charset=utf-8"
            return Response(
                status: .ok,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text))
            )
        }
        table.add(.get, "/metrics") { _, _ in
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

/// One Prometheus registry for the process; swift-metrics is bootstrapped with it once.
public enum MetricsSetup {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}
