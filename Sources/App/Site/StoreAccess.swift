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
    let metrics: WorkerMetrics
    /// Unknown bearer tokens per client address, so a guesser is slowed down (429).
    let authFailures = FailureThrottle()
    /// NDJSON downloads streaming at once: each takes a thread and CPU while nginx buffers it.
    let exports: ThreadBudget

    var configuration: Configuration { site.configuration }


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

    /// 503 with `Retry-After`: the database is busy (every reader taken, a writer holding the
    /// lock) or failing. Said in words; the details go to the log.
    func storeFailure(_ error: any Error) -> HTTPError {
        site.logger.error("\(error)")
        let stored = error as? StoreError
        let action = stored?.action ?? "unknown operation"
        let why = stored?.isBusy == true ? "is busy" : "could not answer"
        return HTTPError(
            status: 503, title: "Database unavailable",
            message: "The database \(why) (\(action)). Try again in a moment; if it persists, check the worker's log.",
            headers: ["Retry-After": "2"])
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

/// Failed attempts per client address in a sliding minute: past `limit`, the address waits
/// out the rest of its minute (the caller answers 429 with that `Retry-After`). Memory is
/// bounded: past `capacity` addresses, windows that ended are dropped, then all.
final class FailureThrottle: Sendable {
    let limit: Int
    let window: Double
    let capacity: Int
    private let failures = Mutex<[String: (count: Int, since: Double)]>([:])
    private let now: @Sendable () -> Double

    init(
        limit: Int = 10, window: Double = 60, capacity: Int = 10_000,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.limit = limit
        self.window = window
        self.capacity = capacity
        self.now = now
    }

    /// Whole seconds this address must still wait, or nil when it may try.
    func retryAfter(_ address: String) -> Int? {
        let at = now()
        return failures.withLock { all -> Int? in
            guard let entry = all[address], entry.count >= limit else { return nil }
            let left = entry.since + window - at
            guard left > 0 else {
                all[address] = nil
                return nil
            }
            return max(1, Format.whole(left.rounded(.up)))
        }
    }

    func failed(_ address: String) {
        let at = now()
        failures.withLock { all in
            if all.count >= capacity {
                all = all.filter { $0.value.since + window > at }
                if all.count >= capacity { all.removeAll() }
            }
            if let entry = all[address], entry.since + window > at {
                all[address] = (entry.count + 1, entry.since)
            } else {
                all[address] = (1, at)
            }
        }
    }
}


// MARK: Shared formatting

enum Format {
    /// A remote URL fit for an `href` or `src`: https with a host, or nil. Fivetran's data is
    /// not ours: a `javascript:`, `data:` or plain-http URL in it is dropped, never rendered.
    static func https(_ url: URL?) -> String? {
        guard let url, url.scheme?.lowercased() == "https", let host = url.host, !host.isEmpty else { return nil }
        return url.absoluteString
    }

    /// A whole number from a computed `Double` (durations, percentages), saturating instead of
    /// trapping: NaN is 0, and anything past ±10^15 stops there.
    static func whole(_ value: Double) -> Int {
        guard value.isFinite else { return 0 }
        return Int(max(-1e15, min(1e15, value.rounded())))
    }

    /// RFC 3339 UTC, whole seconds: `2024-11-15T10:00:00Z`.
    static func rfc3339(_ date: Date?) -> String? {
        date.map { $0.formatted(.iso8601) }
    }

    /// "3 min ago", "2 h ago", or the date for older ones.
    static func ago(_ date: Date, now: Date = Date()) -> String {
        let seconds = whole(now.timeIntervalSince(date))
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
