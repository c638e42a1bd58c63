import Foundation
import Metrics

import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

/// The process's metrics, in Prometheus's text format for `/metrics`. Every module records
/// through swift-metrics (`Timer`, `Counter`); this is the one place that picks the backend.
/// swift-metrics allows one bootstrap per process, so the registry is made once, on first use,
/// however many `Application`s a process builds (the in-process tests make several).
final class WorkerMetrics: Sendable {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Page and upstream latencies: from a millisecond to the 15 s budget of a page.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2.5), .seconds(5), .seconds(15), .seconds(60), .seconds(300), .seconds(1800),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    let registry: PrometheusCollectorRegistry
    /// Made once (after the bootstrap): a metric looked up per request costs a registry lookup.
    private let requests: Counter
    private let restarts: CoreMetrics.Gauge

    /// `workerRestarts`: how many times the supervisor (or systemd) restarted the worker before
    /// this process, as it tells us through `SWITCHBOARD_WORKER_RESTARTS`.
    init(workerRestarts: Int = 0) {
        registry = Self.registry
        requests = Counter(label: "switchboard_requests_total")
        restarts = CoreMetrics.Gauge(label: "switchboard_worker_restarts")
        restarts.record(workerRestarts)
    }

    func requestServed() { requests.increment() }

    /// Everything recorded so far, plus the gauges read at scrape time.
    func text(jobCounts: [String: Int]) -> String {
        for (state, count) in jobCounts {
            CoreMetrics.Gauge(label: "switchboard_jobs", dimensions: [("state", state)]).record(count)
        }
        return String(decoding: registry.emitToBuffer(), as: UTF8.self)
    }
}
