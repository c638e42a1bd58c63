import Foundation
import Metrics
import Transport

/// Time as the client sees it, so tests can run paced and retried requests without waiting.
public struct FrontClock: Sendable {
    /// UNIX seconds (Front's rate-limit resets are UNIX timestamps).
    public var now: @Sendable () -> Double
    /// Sleeps that many seconds; throws when the task is cancelled.
    public var sleep: @Sendable (Double) async throws -> Void

    public init(now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    public static let system = FrontClock(
        now: { Date().timeIntervalSince1970 },
        sleep: { seconds in
            // Bounded before converting: a NaN or an endless wait must not trap.
            guard seconds > 0 else { return }  // NaN is not > 0 either
            try await Task.sleep(for: .milliseconds(Int64((min(seconds, 86_400) * 1000).rounded(.up))))
        })
}

/// The one rate limiter of a Front company, shared by every binding that runs at once.
public actor CompanyRateLimiter {
    private var state: RateLimiter

    /// `window`: see `RateLimiter.init` (Front's minute unless a test knows its stand-in's).
    public init(limit: Int = RateLimiter.assumedLimit, window: Double = RateLimiter.assumedWindow) {
        state = RateLimiter(limit: limit, window: window)
    }

    func reserve(_ route: RouteClass, now: Double) -> Double { state.reserve(route, now: now) }
    func record(status: Int, headers: RateLimitHeaders, route: RouteClass, now: Double) {
        state.record(status: status, headers: headers, route: route, now: now)
    }
    func observe(status: Int, headers: RateLimitHeaders, route: RouteClass, now: Double) {
        state.observe(status: status, headers: headers, route: route, now: now)
    }
    func abandon() { state.abandon() }
    func blocked(_ route: RouteClass, now: Double) -> Double { state.blocked(route, now: now) }
    /// A copy of the current state, for progress displays and tests.
    public var snapshot: RateLimiter { state }
}

/// How often to retry what may pass: 5xx, timeouts, broken connections (with doubling backoff),
/// and 429s (each after exactly `retry-after`).
public struct FrontRetryPolicy: Sendable {
    public var attempts: Int
    public var firstBackoff: Double
    public var maxBackoff: Double
    public var rateLimitedAttempts: Int

    public init(attempts: Int = 5, firstBackoff: Double = 1, maxBackoff: Double = 30, rateLimitedAttempts: Int = 30) {
        self.attempts = attempts
        self.firstBackoff = firstBackoff
        self.maxBackoff = maxBackoff
        self.rateLimitedAttempts = rateLimitedAttempts
    }

    /// Seconds to wait after failed attempt number `attempt` (1-based).
    public func backoff(after attempt: Int) -> Double {
        min(maxBackoff, firstBackoff * pow(2, Double(max(0, attempt - 1))))
    }
}

/// Front Core API client for lists: Bearer auth, the company's rate limits, bounded retries,
/// typed errors. It executes what `RateLimiter` and `FrontPager` decide; it decides nothing itself.
/// Cancellation is honoured while waiting, never mid-request (see `uncancelled`).
public struct FrontClient: Sendable {
    public static let defaultBaseURL = URL(string: "https://api2.frontapp.com")!

    public let baseURL: URL
    private let token: FrontToken
    private let transport: any HTTPTransport
    private let limiter: CompanyRateLimiter
    private let retry: FrontRetryPolicy
    let clock: FrontClock

    public init(
        token: FrontToken, baseURL: URL = FrontClient.defaultBaseURL,
        transport: any HTTPTransport = URLSessionTransport(), limiter: CompanyRateLimiter = CompanyRateLimiter(),
        retry: FrontRetryPolicy = FrontRetryPolicy(), clock: FrontClock = .system
    ) {
        self.token = token
        self.baseURL = baseURL
        self.transport = transport
        self.limiter = limiter
        self.retry = retry
        self.clock = clock
    }

    /// The URL of a list's first page, e.g. `url("/events", ["limit": "15", …])`. Query items keep
    /// their order; `path` may contain spaces and colons (search queries).
    public func url(_ path: String, _ query: [(String, String)] = []) -> URL {
        var parts = URLComponents(url: baseURL, resolvingAgainstBaseURL: false) ?? URLComponents()
        let prefix = parts.path.hasSuffix("/") ? String(parts.path.dropLast()) : parts.path
        // `:` stays literal (Front accepts both); spaces and the rest are percent-encoded.
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#")
        parts.percentEncodedPath = prefix + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path)
        if !query.isEmpty {
            var queryAllowed = CharacterSet.urlQueryAllowed
            queryAllowed.remove(charactersIn: "&=+[]")
            parts.percentEncodedQuery = query.map { name, value in
                "\(name.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? name)=\(value.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? value)"
            }.joined(separator: "&")
        }
        return parts.url ?? baseURL.appendingPathComponent(path)
    }

    /// One list page, after waiting for the rate limiter and retrying what may pass.
    /// `requests` counts every HTTP attempt made, retries included.
    public func page(_ url: URL) async throws(FrontError) -> (page: FrontPage, requests: Int) {
        let (response, requests) = try await send(url)
        return (try FrontPage.parse(response.body, route: Self.routeName(url)), requests)
    }

    /// One GET, after waiting for the rate limiter and retrying what may pass: the 2xx answer.
    func send(_ url: URL) async throws(FrontError) -> (response: HTTPResponse, requests: Int) {
        let route = Self.routeName(url)
        let routeClass = RouteClass(path: url.path)
        var failures = 0
        var rateLimited = 0
        var requests = 0
        var lastFailure = ""
        while true {
            if Task.isCancelled { throw .cancelled }
            let wait = await limiter.reserve(routeClass, now: clock.now())
            do {
                try await clock.sleep(wait)
                // A 429 that came in while this one waited holds it too: retry-after is exact.
                while case let more = await limiter.blocked(routeClass, now: clock.now()), more > 0 {
                    try await clock.sleep(more)
                }
            } catch {
                await limiter.abandon()
                throw .cancelled
            }
            let request = HTTPRequest(
                url: url,
                headers: ["Authorization": token.authorization, "Accept": "application/json"])
            requests += 1
            let response: HTTPResponse
            let sent = ContinuousClock.now
            do {
                response = try await Self.uncancelled(request, on: transport)
                Self.measure(routeClass, status: response.status, since: sent)
            } catch {
                Self.measure(routeClass, status: nil, since: sent)
                await limiter.abandon()
                if Task.isCancelled { throw .cancelled }
                failures += 1
                lastFailure = error.description
                guard failures < retry.attempts else {
                    throw .unavailable(route: route, attempts: requests, last: lastFailure)
                }
                try await backoff(after: failures)
                continue
            }
            let now = clock.now()
            let headers: RateLimitHeaders
            do {
                headers = try RateLimitHeaders(headers: response.headers, now: now)
            } catch {
                await limiter.abandon()
                throw .malformed(route: route, detail: error.description)
            }
            await limiter.record(status: response.status, headers: headers, route: routeClass, now: now)
            switch response.status {
            case 200..<300:
                return (response, requests)
            case 429:
                rateLimited += 1
                guard rateLimited < retry.rateLimitedAttempts else {
                    throw .rateLimited(route: route, attempts: requests)
                }
            case 401:
                throw .unauthorized(route: route, message: Self.errorMessage(response))
            case 403:
                throw .forbidden(route: route, scope: FrontError.scope(for: routeClass), message: Self.errorMessage(response))
            case 500...:
                failures += 1
                lastFailure = "\(response.status) \(Self.errorMessage(response))"
                guard failures < retry.attempts else {
                    throw .unavailable(route: route, attempts: requests, last: lastFailure)
                }
                try await backoff(after: failures)
            default:
                throw .rejected(route: route, status: response.status, message: Self.errorMessage(response))
            }
        }
    }

    /// Upstream calls by route class and status (`error` when no answer came), and 429s apart.
    static func measure(_ route: RouteClass, status: Int?, since start: ContinuousClock.Instant) {
        let dimensions = [("upstream", "front"), ("route", route.description), ("status", status.map { "\($0)" } ?? "error")]
        CoreMetrics.Timer(label: "switchboard_upstream_request_duration_seconds", dimensions: dimensions)
            .record(duration: ContinuousClock.now - start)
        if status == 429 {
            Counter(
                label: "switchboard_upstream_rate_limited_total",
                dimensions: [("upstream", "front"), ("route", route.description)]
            )
            .increment()
        }
    }

    /// Sends without passing the caller's cancellation on: on Linux, a URLSession request whose
    /// task is cancelled mid-flight may never complete (seen with swift-corelibs-foundation), which
    /// would hang a cancelled capture. An answer takes at most the request's timeout; the caller
    /// notices the cancellation right after and stops before the next page.
    static func uncancelled(_ request: HTTPRequest, on transport: any HTTPTransport) async throws(TransportError)
        -> HTTPResponse
    {
        let sending = Task { () async throws(TransportError) -> HTTPResponse in try await transport.send(request) }
        do {
            return try await sending.value
        } catch let error as TransportError {
            throw error
        } catch {
            throw .connectionFailed(request.url, String(describing: error))
        }
    }

    private func backoff(after failures: Int) async throws(FrontError) {
        do {
            try await clock.sleep(retry.backoff(after: failures))
        } catch {
            throw .cancelled
        }
    }

    /// The path and filters of a URL, for messages (no host, no page token).
    static func routeName(_ url: URL) -> String {
        guard let parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.path }
        let items = (parts.queryItems ?? []).filter { $0.name != "page_token" && $0.name != "limit" }
        let query = items.map { "\($0.name)=\($0.value ?? "")" }.joined(separator: "&")
        return parts.path + (query.isEmpty ? "" : "?" + query)
    }

    private struct ErrorBody: Decodable {
        struct Inner: Decodable {
            var title: String?
            var message: String?
        }
        var _error: Inner
    }

    static func errorMessage(_ response: HTTPResponse) -> String {
        if let body = try? JSONDecoder().decode(ErrorBody.self, from: response.body) {
            return [body._error.title, body._error.message].compactMap { $0 }.joined(separator: ": ")
        }
        return "HTTP \(response.status)"
    }
}
