import Capture
import Fivetran
import Foundation
import Front
import Web

/// The fuzz targets: each takes arbitrary bytes and drives one edge decoder or remote-data
/// parser of the real code with them. Throwing is fine (that is how bad input is refused);
/// a trap (overflow, NaN → Int, a force unwrap, an index out of range) or a hang is a bug.
///
/// The same entry points run under libFuzzer (`scripts/fuzz`, the `switchboard-fuzz` binary)
/// and in `swift test` (`FuzzReplayTests` replays every file of `Tests/FuzzCorpus/<name>/`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// CGI parameters (`KEY=VALUE` lines, a blank line, then the body) → `Web.Request`.
    case request
    /// Query-string and form-body decoding (`Parameters.decode`, `Request.form()`).
    case parameters
    /// The `Cookie` header.
    case cookies
    /// CSRF tokens: `CSRF.isValid` and `CSRF.check(cookie:field:)` (cookie and field split at a newline).
    case csrf
    /// Front list pages: the `JSONScanner` walked over every value, `FrontPage.parse`, then `FrontPager`.
    case frontPage = "front-page"
    /// Front's rate-limit headers (`name: value` lines) → `RateLimitHeaders` → a `RateLimiter`;
    /// Fivetran's `Retry-After` too.
    case rateLimit = "ratelimit"
    /// The JSON envelopes the Fivetran client decodes (catalog, connections, connect card, errors).
    case fivetran
    /// A capture configuration file, JSON or YAML (`CaptureConfig.parse`).
    case captureConfig = "capture-config"

    public var name: String { rawValue }

    /// Runs the target on one input.
    public func run(_ data: [UInt8]) {
        switch self {
        case .request: FuzzTargets.request(data)
        case .parameters: FuzzTargets.parameters(data)
        case .cookies: FuzzTargets.cookies(data)
        case .csrf: FuzzTargets.csrf(data)
        case .frontPage: FuzzTargets.frontPage(data)
        case .rateLimit: FuzzTargets.rateLimit(data)
        case .fivetran: FuzzTargets.fivetran(data)
        case .captureConfig: FuzzTargets.captureConfig(data)
        }
    }
}

public enum FuzzTargets {
    // MARK: web edge

    /// CGI variables as libfcgi hands them over: `KEY=VALUE` lines (a missing `=` means an empty
    /// value), then an empty line, then the body. A first byte with its low bit set marks the body
    /// as too large.
    public static func request(_ data: [UInt8]) {
        let bodyTooLarge = (data.first ?? 0) & 1 == 1
        var cgi: [String: String] = [:]
        var body: [UInt8] = []
        var lineStart = data.startIndex
        var index = data.startIndex
        while index < data.endIndex {
            if data[index] == UInt8(ascii: "\n") {
                if index == lineStart {
                    body = Array(data[(index + 1)...])
                    break
                }
                addPair(data[lineStart..<index], to: &cgi)
                lineStart = index + 1
            }
            index += 1
        }
        if index == data.endIndex, lineStart < data.endIndex { addPair(data[lineStart...], to: &cgi) }

        guard let request = try? Request(cgi: cgi, body: body, bodyTooLarge: bodyTooLarge) else { return }
        _ = request.mediaType
        _ = request.wantsJSON
        _ = request.cookies
        _ = request.query.pairs.count
        _ = try? request.form()
        for name in ["accept", "cookie", "content-type", "content-length"] { _ = request.header(name) }
    }

    private static func addPair(_ line: ArraySlice<UInt8>, to cgi: inout [String: String]) {
        // libfcgi's names and values are bytes; the FastCGI module copies them out as UTF-8 text.
        if let eq = line.firstIndex(of: UInt8(ascii: "=")) {
            cgi[String(decoding: line[..<eq], as: UTF8.self)] = String(decoding: line[(eq + 1)...], as: UTF8.self)
        } else {
            cgi[String(decoding: line, as: UTF8.self)] = ""
        }
    }

    /// The input as a query string (lossy UTF-8, as CGI text arrives) and as a form body (raw bytes,
    /// which `form()` validates itself).
    public static func parameters(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        if let query = try? Parameters.decode(text) {
            for pair in query.pairs.prefix(8) {
                _ = query[pair.name]
                _ = query.all(pair.name)
            }
        }
        _ = percentDecode(text)
        _ = percentEncode(text)
        let request = Request(
            method: "POST", path: "/", headers: ["content-type": "application/x-www-form-urlencoded; charset=utf-8"],
            body: data)
        _ = try? request.form()
    }

    public static func cookies(_ data: [UInt8]) {
        let header = String(decoding: data, as: UTF8.self)
        let cookies = Cookies.parse(header)
        _ = cookies[guardian.cookieName]
        let request = Request(method: "GET", path: "/", headers: ["cookie": header])
        _ = request.cookies.count
    }

    private static let guardian = CSRF(secret: [UInt8](repeating: 0x5A, count: 32))

    /// `COOKIE\nFIELD`; without a newline the whole input is both.
    public static func csrf(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        _ = guardian.isValid(text)
        if let newline = data.firstIndex(of: UInt8(ascii: "\n")) {
            let cookie = String(decoding: data[..<newline], as: UTF8.self)
            let field = String(decoding: data[(newline + 1)...], as: UTF8.self)
            _ = guardian.check(cookie: cookie, field: field)
            _ = guardian.check(cookie: cookie, field: nil)
        } else {
            _ = guardian.check(cookie: text, field: text)
        }
        let request = Request(method: "POST", path: "/", headers: ["cookie": "\(guardian.cookieName)=\(text)"])
        _ = guardian.check(cookie: request.cookies[guardian.cookieName], field: text)
    }

    // MARK: Front

    private static let frontBase = URL(string: "https://api2.frontapp.com")!
    private static let frontFirst = URL(string: "https://api2.frontapp.com/events?limit=15")!

    public static func frontPage(_ data: [UInt8]) {
        let body = Data(data)
        // The scanner on its own, over every value it finds (depth-limited).
        let scanner = JSONScanner(body)
        if let members = try? scanner.objectMembers() {
            for member in members { walk(scanner, member.range, depth: 0) }
        }
        // The page parser as the client calls it, then paging on its `next`.
        guard let page = try? FrontPage.parse(body, route: "/events") else { return }
        for document in page.results {
            _ = document.conversation?.id
        }
        var pager = FrontPager(first: frontFirst, baseURL: frontBase)
        _ = try? pager.advance(next: page.next)
        var foreign = FrontPager(first: frontFirst, baseURL: URL(string: "http://127.0.0.1:8123")!)
        _ = try? foreign.advance(next: page.next)
    }

    private static func walk(_ scanner: JSONScanner, _ range: Range<Int>, depth: Int) {
        guard depth < 8, !range.isEmpty else { return }
        let first = scanner.slice(range.lowerBound..<(range.lowerBound + 1)).first
        switch first {
        case UInt8(ascii: "{"):
            for member in (try? scanner.objectMembers(in: range)) ?? [] { walk(scanner, member.range, depth: depth + 1) }
        case UInt8(ascii: "["):
            for element in (try? scanner.arrayElements(in: range)) ?? [] { walk(scanner, element, depth: depth + 1) }
        default:
            _ = scanner.slice(range)
        }
    }

    /// Header lines `name: value` (names lower-cased, as the transport hands them over); the first
    /// byte picks the status (429 when odd) and the route. The limiter then reserves and records a
    /// few requests, as the client does, at a fixed clock.
    public static func rateLimit(_ data: [UInt8]) {
        var headers: [String: String] = [:]
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
            headers[name] = value
        }
        let selector = data.first ?? 0
        let status = selector & 1 == 1 ? 429 : 200
        let route = selector & 2 == 2 ? RouteClass(path: "/conversations/search/after:1") : RouteClass(path: "/events")
        let now = 1_700_000_000.0

        _ = FivetranRetryPolicy.parseRetryAfter(headers["retry-after"])
        // Headers that are no sane numbers are refused (an error of the answer), never used.
        guard let parsed = try? RateLimitHeaders(headers: headers, now: now) else { return }
        var limiter = RateLimiter()
        var clock = now
        if selector & 4 == 4 {
            // Taught a 6 s window first (two successive resets), as against a shortened stand-in.
            limiter.observe(
                status: 200, headers: RateLimitHeaders(limit: 100, remaining: 99, reset: now + 6), route: route, now: now)
            clock += 6.5
            limiter.observe(
                status: 200, headers: RateLimitHeaders(limit: 100, remaining: 99, reset: now + 12), route: route, now: clock)
        }
        for _ in 0..<3 {
            let wait = limiter.reserve(route, now: clock)
            clock += wait.isFinite ? min(max(wait, 0), 3600) : 0
            limiter.record(status: status, headers: parsed, route: route, now: clock)
            _ = limiter.blocked(route, now: clock)
        }
        _ = limiter.reserve(RouteClass(path: "/contacts"), now: clock)
        limiter.abandon()
    }

    // MARK: Fivetran

    /// Every envelope the Fivetran client decodes, from the same bytes; an encode of what decoded.
    public static func fivetran(_ data: [UInt8]) {
        let body = Data(data)
        let decoder = JSONDecoder()
        if let page = try? decoder.decode(Envelope<Page<ConnectorType>>.self, from: body) {
            _ = page
        }
        if let page = try? decoder.decode(Envelope<Page<Connection>>.self, from: body) {
            _ = page
        }
        _ = try? decoder.decode(Envelope<Connection>.self, from: body)
        _ = try? decoder.decode(Envelope<ConnectorType>.self, from: body)
        // The models on their own, and their encoding back (the sample's JSON routes return them).
        if let connection = try? decoder.decode(Connection.self, from: body) {
            _ = try? JSONEncoder().encode(connection)
            _ = connection.status.isConnected
        }
        if let type = try? decoder.decode(ConnectorType.self, from: body) {
            _ = try? JSONEncoder().encode(type)
        }
        _ = try? decoder.decode(Envelope<ConnectCardReply>.self, from: body)
        _ = try? decoder.decode(ErrorReply.self, from: body)
    }

    // MARK: Capture

    /// The file as `switchboard capture --config` reads it (JSON when it starts with `{`, else
    /// YAML); the second byte's low bit adds a `FRONT_API_TOKEN` override.
    public static func captureConfig(_ data: [UInt8]) {
        let override = data.count > 1 && data[1] & 1 == 1 ? "override-token" : nil
        guard let config = try? CaptureConfig.parse(Data(data), tokenOverride: override) else { return }
        _ = config.bindings.map(\.collection)
        _ = config.startDate.timeIntervalSince1970
    }
}
