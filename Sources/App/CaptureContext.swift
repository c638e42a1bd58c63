import Crypto
import Foundation
import Jobs
import Logging
import Store
import Synchronization
import Web

/// What the capture, job, collection, API and settings routes share: the site, the store, the
/// box that seals Front tokens, and the counters `/metrics` reports.
struct CaptureContext: Sendable {
    let site: Site
    let store: Store
    let box: SecretBox
    let metrics: Metrics

    var configuration: Configuration { site.configuration }

    func makeRunner(logger: Logger) -> JobRunner {
        JobRunner(
            store: store, box: box,
            options: configuration.jobRunnerOptions,
            logger: logger)
    }

    /// The capture with this path id, or 404.
    func capture(_ request: Request) throws(HTTPError) -> CaptureRecord {
        guard let id = request[parameter: "id"].flatMap(Int64.init) else { throw .notFound("There is no such capture.") }
        let found: CaptureRecord?
        do { found = try store.capture(id: id) } catch { throw storeFailure(error) }
        guard let found else { throw .notFound("There is no capture \(id). It may have been removed.") }
        return found
    }

    /// The job with this path id, or 404.
    func job(_ request: Request) throws(HTTPError) -> JobRecord {
        guard let id = request[parameter: "id"].flatMap(Int64.init) else { throw .notFound("There is no such job.") }
        let found: JobRecord?
        do { found = try store.job(id: id) } catch { throw storeFailure(error) }
        guard let found else { throw .notFound("There is no job \(id).") }
        return found
    }

    func storeFailure(_ error: any Error) -> HTTPError {
        site.logger.error("\(error)")
        let action = (error as? StoreError)?.action ?? "unknown operation"
        return HTTPError(
            status: 503, title: "Database unavailable",
            message: "The database could not answer (\(action)). Try again in a moment; if it persists, check the worker's log.")
    }

    /// Queues a job for a capture (or finds the one already queued or running).
    func enqueue(_ capture: CaptureRecord, requestedBy: String?) throws(HTTPError) -> EnqueueResult {
        let bindings = capture.resources.map {
            JobBindingProgress(name: capture.collection(for: $0), resource: $0)
        }
        do {
            return try store.enqueueJob(captureID: capture.id, requestedBy: requestedBy, bindings: bindings)
        } catch {
            throw storeFailure(error)
        }
    }
}

/// Counters for `/metrics`.
final class Metrics: Sendable {
    private let requests = Atomic<Int>(0)
    func requestServed() { requests.add(1, ordering: .relaxed) }
    var requestsServed: Int { requests.load(ordering: .relaxed) }
}

// MARK: Shared formatting

enum Format {
    /// RFC 3339 UTC, whole seconds: `2024-11-15T10:00:00Z`.
    static func rfc3339(_ date: Date?) -> String? {
        date.map { $0.formatted(.iso8601) }
    }

    /// "3 min ago", "2 h ago", or the date for older ones.
    static func ago(_ date: Date, now: Date = Date()) -> String {
        let seconds = Int(now.timeIntervalSince(date))
        if seconds < 5 { return "just now" }
        if seconds < 60 { return "\(seconds) s ago" }
        if seconds < 3600 { return "\(seconds / 60) min ago" }
        if seconds < 86_400 { return "\(seconds / 3600) h ago" }
        return date.formatted(.iso8601.year().month().day())
    }

    /// "1 min 05 s", "12 s".
    static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min \(String(format: "%02d", seconds % 60)) s" }
        return "\(seconds / 3600) h \(String(format: "%02d", seconds % 3600 / 60)) min"
    }

    static func badge(_ state: JobState) -> String {
        switch state {
        case .queued: "badge-info"
        case .running: "badge-info"
        case .succeeded: "badge-ok"
        case .failed: "badge-bad"
        case .cancelled: "badge-warn"
        }
    }

    /// A collection's page: `/collections/acme%2Fchannels` (nginx decodes `%2F`; see CollectionRoutes).
    static func collectionPath(_ name: String) -> String { "/collections/" + percentEncode(name) }
}

/// `ETag` on JSON answers, and 304 when the client's `If-None-Match` matches.
func jsonWithETag(_ value: some Encodable, request: Request, status: Int = 200) -> Response {
    var response = Response.json(value, status: status)
    guard case .bytes(let bytes) = response.body else { return response }
    let digest = SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined()
    let etag = "\"\(digest)\""
    response.setHeader("ETag", etag)
    // Weak comparison (RFC 9110 §13.1.2): nginx's gzip turns the ETag into W/"…" on the way out.
    func opaque(_ tag: Substring) -> String {
        let trimmed = tag.trimmingCharacters(in: .whitespaces)
        return trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed
    }
    if status == 200, let match = request.header("if-none-match"),
        match.split(separator: ",").contains(where: { opaque($0) == etag || opaque($0) == "*" })
    {
        response.status = 304
        response.body = .bytes([])
    }
    return response
}
