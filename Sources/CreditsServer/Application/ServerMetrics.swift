import CreditsServices
import CreditsStore
import Metrics
import Prometheus

/// The metrics `/metrics` shows, by the label the code reports them under (swift-metrics), each
/// with its Prometheus name and HELP text: one list, so every metric follows Prometheus' naming
/// (snake_case, `_total` on counters, the unit in the name) and says what it counts, which
/// `promtool check metrics` checks in CI (`.ci/metrics/check.sh`).
enum ServerMetrics {
    /// A metric's Prometheus name and help text, and the buckets of a histogram of values.
    struct Description: Sendable {
        let name: String
        let help: String
        var buckets: [Double]? = nil
    }

    /// Every metric of the server and of Hummingbird's request metrics, by reported label.
    static let descriptions: [String: Description] = [
        "hb.requests": Description(
            name: "hb_requests_total",
            help: "HTTP requests answered, by route, method and status code."
        ),
        "hb.request.errors": Description(
            name: "hb_request_errors_total",
            help: "HTTP requests that ended in an error, by route, method and status code."
        ),
        "http.server.request.duration": Description(
            name: "http_server_request_duration_seconds",
            help: "How long HTTP requests took to answer in seconds, by route, method and status code."
        ),
        "http.server.active_requests": Description(
            name: "http_server_active_requests",
            help: "HTTP requests being answered now, by method."
        ),
        sendsLabel: Description(
            name: sendsLabel,
            help: "Outbound texts that reached a final status, by status (delivered, undelivered, failed, canceled)."
        ),
        ledgerBatchLabel: Description(
            name: ledgerBatchLabel,
            help: "Operations applied per ledger batch (one transaction of one organisation's ledger).",
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]
        ),
        "textcredits_webhook_deliveries_total": Description(
            name: "textcredits_webhook_deliveries_total",
            help: "Webhook delivery attempts, by outcome."
        ),
        BacklogGauges.queuedMessages: Description(
            name: BacklogGauges.queuedMessages,
            help: "Texts queued for the provider (waiting for dispatch or their sending time)."
        ),
        BacklogGauges.queuedCalls: Description(
            name: BacklogGauges.queuedCalls,
            help: "Calls queued to be placed (waiting for dispatch or their sending time)."
        ),
        BacklogGauges.holdsPending: Description(
            name: BacklogGauges.holdsPending,
            help: "Ledger holds pending: credits reserved for texts and calls not final yet."
        ),
        BacklogGauges.holdsPendingMillicredits: Description(
            name: BacklogGauges.holdsPendingMillicredits,
            help: "Credits reserved by pending holds, in milli-credits."
        ),
        BacklogGauges.holdsOverdue: Description(
            name: BacklogGauges.holdsOverdue,
            help: "Pending holds past their timeout that the hold-timeouts job has not resolved yet."
        ),
        BacklogGauges.holdsOldestAge: Description(
            name: BacklogGauges.holdsOldestAge,
            help: "Age in seconds of the oldest pending hold (0 when none is pending)."
        ),
    ]

    /// Texts by final status (reported by the settlement service).
    static let sendsLabel = SettlementService.sendsMetricLabel
    /// Operations per ledger batch (reported by the ledger store).
    static let ledgerBatchLabel = SQLLedgerStore.batchMetricLabel

    /// The description of a label; a label no one described (a library's) keeps its own name
    /// made valid, `_total` on a counter, and says where it comes from.
    static func description(_ label: String, counter: Bool = false) -> Description {
        if let known = descriptions[label] { return known }
        var name = String(label.map { $0.isLetter || $0.isNumber ? $0 : "_" })
        if counter && !name.hasSuffix("_total") { name += "_total" }
        return Description(name: name, help: "Reported by a library under the label \(label).")
    }
}

/// swift-metrics' factory over the Prometheus registry, naming and describing each metric from
/// `ServerMetrics.descriptions` (the stock factory emits no HELP text and keeps counters'
/// names as reported).
struct DescribedMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    /// The buckets of request durations.
    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    /// The buckets of a value histogram no description gives buckets to.
    static let valueBuckets: [Double] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

    func descriptor(_ description: ServerMetrics.Description) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: description.name, unitName: "", helpText: description.help)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(
            descriptor: descriptor(ServerMetrics.description(label, counter: true)),
            labels: dimensions
        )
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(
            descriptor: descriptor(ServerMetrics.description(label, counter: true)),
            labels: dimensions
        )
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let description = ServerMetrics.description(label)
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(description), labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: descriptor(description),
            labels: dimensions,
            buckets: description.buckets ?? DescribedMetricsFactory.valueBuckets
        )
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(ServerMetrics.description(label)), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: descriptor(ServerMetrics.description(label)),
            labels: dimensions,
            buckets: DescribedMetricsFactory.durationBuckets
        )
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
