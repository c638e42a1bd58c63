import Foundation
import Metrics
import Model

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

/// Per capture, when its last job succeeded and how stale that makes it, in Prometheus's text
/// format, so an alert can fire on a capture that stopped keeping up:
///
///     switchboard_capture_last_success_timestamp_seconds{capture_id="1",capture="Acme"} 1731664800
///     switchboard_capture_lag_seconds{capture_id="1",capture="Acme"} 42
///
/// A capture with no succeeded job yet has no timestamp line (there is no such moment), and
/// its lag counts from its creation, so a capture that never succeeds still grows stale.
struct CaptureFreshness: Sendable {
    let captures: [CaptureRecord]
    let lastSuccesses: [Int64: Date]
    let now: Date

    var text: String {
        guard !captures.isEmpty else { return "" }
        var stamps = """
            # HELP switchboard_capture_last_success_timestamp_seconds When the capture's latest succeeded job ended (Unix time).
            # TYPE switchboard_capture_last_success_timestamp_seconds gauge

            """
        var lags = """
            # HELP switchboard_capture_lag_seconds Seconds since the capture's latest succeeded job ended (since its creation before any).
            # TYPE switchboard_capture_lag_seconds gauge

            """
        for capture in captures {
            let labels = "{capture_id=\"\(capture.id)\",capture=\"\(Self.escape(capture.name))\"}"
            let success = lastSuccesses[capture.id]
            if let success {
                stamps +=
                    "switchboard_capture_last_success_timestamp_seconds\(labels) \(Self.seconds(success.timeIntervalSince1970))\n"
            }
            let lag = max(0, now.timeIntervalSince(success ?? capture.createdAt))
            lags += "switchboard_capture_lag_seconds\(labels) \(Self.seconds(lag))\n"
        }
        return stamps + lags
    }

    /// A label value as the text format wants it: `\`, `"` and newlines escaped.
    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n", "\r\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Seconds to the millisecond, without an exponent; 0 for what is not a finite number.
    static func seconds(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Format.whole(rounded)) : String(format: "%.3f", rounded)
    }
}
