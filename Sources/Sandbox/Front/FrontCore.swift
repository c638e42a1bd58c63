import Foundation
import Synchronization

/// Where a list's next page starts. Stored server-side behind an opaque `page_token`, together
/// with the query it continues, so a client may send the token alone or with its original params.
enum FrontPagePosition {
    /// After this array index (snapshot lists, in index order).
    case afterIndex(Int)
    /// Next event index to look at (ascending: upwards; descending: downwards).
    case eventIndex(Int)
    /// After this (sort key, index) pair in the list's order.
    case afterKey(Int64, Int)
}

struct FrontStoredCursor {
    var route: String
    var limit: Int
    var page: Int
    var query: FrontListQuery
    var position: FrontPagePosition
}

/// A list request's parsed filters and order.
struct FrontListQuery {
    var ascending = false
    var sortByUpdated = true
    var afterMs: Double?
    var beforeMs: Double?
    var types: Set<String> = []
    var inboxes: Set<String> = []
    var statuses: Set<String> = []
    var searchTerms: [String] = []
    var searchIs: Set<String> = []
    var searchTags: Set<String> = []
    var searchInboxes: Set<String> = []
}

/// One injected fault for the next `remaining` matching requests (nil = until cleared): a status
/// to answer instead of the real one (with `headers` set on it, if given), latency, response
/// headers set or overridden on whatever is answered, or the numeric timestamps of a list's
/// `_results` replaced by a hostile literal.
struct FrontFault {
    var status: Int?
    var retryAfter: Int?
    var latencyMs: Int?
    var remaining: Int?
    var routePrefix: String?
    /// Set on the response, replacing any header of the same name (names compared case-insensitively).
    var headers: SandboxHeaders? = nil
    var corruptTimestamps: FrontTimestampCorruption? = nil

    func matches(_ path: String) -> Bool { routePrefix.map { path.hasPrefix($0) } ?? true }
    var isLive: Bool { (remaining ?? 1) > 0 }
    /// Only overrides headers of whatever the sandbox answers (no status, latency or body change).
    var isHeaderOnly: Bool { headers != nil && status == nil && latencyMs == nil && corruptTimestamps == nil }
}

/// What a corrupt-timestamps fault writes in place of every numeric timestamp of `_results`
/// (`created_at`, `updated_at`, `emitted_at`, `posted_at`, also inside embedded documents).
enum FrontTimestampCorruption: String, CaseIterable, Sendable {
    /// `NaN`, as Python's and some JavaScript encoders write it (not valid JSON).
    case nan
    /// `Infinity` (not valid JSON either).
    case inf
    /// `1e400`: valid JSON syntax, but overflows a Double.
    case overflow = "1e400"
    /// `-1`: a second before 1970.
    case negative = "-1"
    /// `9223372036854775807` seconds: fits an Int64 as written, overflows it in milliseconds.
    case huge

    var literal: String {
        switch self {
        case .nan: "NaN"
        case .inf: "Infinity"
        case .overflow: "1e400"
        case .negative: "-1"
        case .huge: "9223372036854775807"
        }
    }
}

struct FrontState {
    var world: FrontWorld
    /// One budget per company id.
    var limiters: [String: FrontRateLimiter]
    var cursors: [String: FrontStoredCursor] = [:]
    var tokenCounter: UInt64 = 0
    var faults: [FrontFault] = []
    var stats: [String: Int]
    var base = "http://127.0.0.1"

    init(world: FrontWorld, limiters: [String: FrontRateLimiter]) {
        self.world = world
        self.limiters = limiters
        self.stats = Self.emptyStats(limiters.keys)
    }

    /// The totals and each company's counts at zero, so a company no one called reads 0.
    static func emptyStats(_ companies: some Sequence<String>) -> [String: Int] {
        var stats = ["total": 0, "429": 0]
        for id in companies {
            stats["\(id) total"] = 0
            stats["\(id) 429"] = 0
        }
        return stats
    }
}

/// The sandbox's request handling, independent of the socket: one lock around the in-memory
/// company, one function from a request (and the time) to a response.
final class FrontCore: Sendable {
    let options: FrontSandbox.Options
    let state: Mutex<FrontState>

    init(options: FrontSandbox.Options, now: Double = Date().timeIntervalSince1970) {
        self.options = options
        let startMs = Int64((options.startTime.timeIntervalSince1970 * 1000).rounded(.down))
        let world = FrontWorld(
            size: .init(
                conversations: options.conversations, eventsPerConversation: options.eventsPerConversation,
                contacts: options.contacts, tags: options.tags, teammates: options.teammates, teams: options.teams,
                inboxes: options.inboxes, channels: options.channels, accounts: options.accounts),
            seed: options.seed, startMs: startMs, spanMs: Int64(options.dataSpan * 1000))
        var limiters: [String: FrontRateLimiter] = [:]
        for id in options.companyIDs {
            limiters[id] = FrontRateLimiter(
                limit: options.rateLimitPerMinute, searchShare: options.searchShare,
                minuteLength: options.minuteLength, burstPerSecond: options.burstPerSecond, origin: now)
        }
        state = Mutex(FrontState(world: world, limiters: limiters))
    }

    func setBase(_ base: String) { state.withLock { $0.base = base } }

    func handle(_ request: SandboxRequest, now: Double = Date().timeIntervalSince1970) -> SandboxResponse {
        if request.path == "/_sandbox" || request.path.hasPrefix("/_sandbox/") {
            return state.withLock { handleAdmin(request, state: &$0, now: now) }
        }
        return state.withLock { handleAPI(request, state: &$0, now: now) }
    }

    // MARK: API

    struct RouteInfo {
        var name: String
        var scope: String?
        var resource: String
        var isSearch = false
    }

    private static let collections: [String: String] = [
        "accounts": "accounts:read", "channels": "channels:read", "inboxes": "inboxes:read", "tags": "tags:read",
        "teammates": "teammates:read", "teams": "teams:read", "contacts": "contacts:read", "events": "events:*:read",
        "conversations": "conversations:read",
    ]

    private func route(for segments: [String]) -> RouteInfo? {
        guard let first = segments.first else { return nil }
        if segments == ["me"] { return RouteInfo(name: "GET /me", scope: nil, resource: "me") }
        guard let scope = Self.collections[first] else { return nil }
        switch segments.count {
        case 1: return RouteInfo(name: "GET /\(first)", scope: scope, resource: first)
        case 2 where first == "conversations" && segments[1] == "search":
            return RouteInfo(name: "GET /conversations/search", scope: scope, resource: "conversations/search", isSearch: true)
        case 2 where !segments[1].isEmpty: return RouteInfo(name: "GET /\(first)/{id}", scope: scope, resource: first)
        case 3 where first == "conversations" && segments[1] == "search":
            return RouteInfo(name: "GET /conversations/search", scope: scope, resource: "conversations/search", isSearch: true)
        default: return nil
        }
    }

    private func rateHeaders(_ d: FrontRateLimiter.Decision, limit: Int) -> SandboxHeaders {
        [
            "x-ratelimit-limit": String(limit), "x-ratelimit-remaining": String(d.remaining),
            "x-ratelimit-reset": Self.secondsString(d.reset),
        ]
    }

    static func secondsString(_ s: Double) -> String {
        let ms = Int64((s * 1000).rounded(.up))
        return FrontTime.seconds(ms)
    }

    private func tooMany(_ wait: Double, what: String, headers: SandboxHeaders) -> SandboxResponse {
        let ms = max(1, Int((wait * 1000).rounded(.up)))
        var headers = headers
        headers["retry-after"] = String(max(1, Int(wait.rounded(.up))))
        return .frontError(
            429, "Too many requests", "Rate limit exceeded\(what). Please retry in \(ms) milliseconds.", headers: headers)
    }

    private func handleAPI(_ request: SandboxRequest, state: inout FrontState, now: Double) -> SandboxResponse {
        var (response, company) = dispatchAPI(request, state: &state, now: now)
        if let i = state.faults.firstIndex(where: { $0.isHeaderOnly && $0.isLive && $0.matches(request.path) }) {
            response.headers.append(contentsOf: state.faults[i].headers ?? [:])
            state.stats["headers injected", default: 0] += 1
            consume(&state.faults, i)
        }
        state.stats[String(response.status), default: 0] += 1
        if let company {
            state.stats["\(company) total", default: 0] += 1
            if response.status == 429 { state.stats["\(company) 429", default: 0] += 1 }
        }
        return response
    }

    /// Runs `body` on the budget of `company` (made on first use, for a company named after start).
    private func withLimiter<T>(
        _ company: String, _ state: inout FrontState, now: Double, _ body: (inout FrontRateLimiter) -> T
    ) -> T {
        // Taken out and put back, so the one copy is changed in place.
        var limiter =
            state.limiters.removeValue(forKey: company)
            ?? FrontRateLimiter(
                limit: options.rateLimitPerMinute, searchShare: options.searchShare, minuteLength: options.minuteLength,
                burstPerSecond: options.burstPerSecond, origin: now)
        defer { state.limiters[company] = limiter }
        return body(&limiter)
    }

    /// The answer, and the company whose token asked (nil before the token is known).
    private func dispatchAPI(_ request: SandboxRequest, state: inout FrontState, now: Double) -> (SandboxResponse, String?) {
        let limit = max(1, options.rateLimitPerMinute)
        state.stats["total", default: 0] += 1
        let segments = request.segments
        // Before the token is known, the headers are the default company's.
        let peekDefault = { (s: inout FrontState) in
            self.rateHeaders(self.withLimiter(self.options.defaultCompany, &s, now: now) { $0.peek(now: now) }, limit: limit)
        }
        guard let route = route(for: segments) else {
            state.stats["unknown", default: 0] += 1
            var r = SandboxResponse.frontNotFound("Unknown route \(request.method) \(request.path)")
            r.headers.append(contentsOf: peekDefault(&state))
            return (r, nil)
        }
        state.stats[route.name, default: 0] += 1

        // Auth
        let token: String? = request.header("authorization").flatMap { header in
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }
        guard let token,
            options.tokens.contains(token) || options.scopedTokens[token] != nil || options.companies[token] != nil
        else {
            let message = token == nil ? "Missing bearer token in Authorization header" : "JSON Web Token error"
            return (.frontError(401, "Unauthenticated", message, headers: peekDefault(&state)), nil)
        }
        let company = options.company(of: token)
        return (answerAPI(request, route: route, token: token, company: company, state: &state, now: now), company)
    }

    /// The answer to an authenticated request of `company`.
    private func answerAPI(
        _ request: SandboxRequest, route: RouteInfo, token: String, company: String, state: inout FrontState, now: Double
    ) -> SandboxResponse {
        let limit = max(1, options.rateLimitPerMinute)
        let segments = request.segments
        let peek = { (s: inout FrontState) in
            self.rateHeaders(self.withLimiter(company, &s, now: now) { $0.peek(now: now) }, limit: limit)
        }
        let fullScope = options.tokens.contains(token) || options.companies[token] != nil
        if let scopes = options.scopedTokens[token], !fullScope, let needed = route.scope, !scopes.contains(needed) {
            return .frontError(403, "Forbidden", "Your API token is missing the required scope \(needed)", headers: peek(&state))
        }
        guard request.method == "GET" else {
            return .frontError(
                405, "Method not allowed", "\(request.method) is not supported by the Front sandbox on \(request.path)",
                headers: peek(&state))
        }

        // Injected faults
        var delay = Duration.zero
        if let i = state.faults.firstIndex(where: { $0.latencyMs != nil && $0.matches(request.path) && ($0.remaining ?? 1) > 0 })
        {
            delay = .milliseconds(state.faults[i].latencyMs ?? 0)
            consume(&state.faults, i)
        }
        if let i = state.faults.firstIndex(where: { $0.status != nil && $0.matches(request.path) && ($0.remaining ?? 1) > 0 }) {
            let fault = state.faults[i]
            consume(&state.faults, i)
            var r: SandboxResponse
            switch fault.status ?? 500 {
            case 429:
                state.stats["429 injected", default: 0] += 1
                let wait = Double(fault.retryAfter ?? 1)
                r = tooMany(wait, what: "", headers: peek(&state))
            case 503:
                r = .frontError(
                    503, "Service unavailable", "The Front sandbox is pretending to be unavailable", headers: peek(&state))
            case let s:
                r = .frontError(s, s >= 500 ? "Internal server error" : "Error", "Injected fault \(s)", headers: peek(&state))
            }
            if let headers = fault.headers {
                r.headers.append(contentsOf: headers)
                state.stats["headers injected", default: 0] += 1
            }
            r.delay = delay
            return r
        }

        // Rate limits
        let decision = withLimiter(company, &state, now: now) {
            $0.admit(resource: route.resource, isSearch: route.isSearch, now: now)
        }
        let headers = rateHeaders(decision, limit: limit)
        if !decision.allowed {
            state.stats["429 \(decision.kind?.rawValue ?? "company")", default: 0] += 1
            let what: String
            switch decision.kind {
            case .burst: what = " for tier-2 route"
            case .search: what = " for search route"
            default: what = ""
            }
            var refusal = headers
            if decision.kind == .burst { refusal["x-front-tier"] = "tier-2" }
            var r = tooMany(decision.wait, what: what, headers: refusal)
            r.delay = delay
            return r
        }

        var r = serve(route: route, segments: segments, request: request, company: company, state: &state)
        r.headers.append(contentsOf: headers)
        r.delay = delay
        return r
    }

    func consume(_ faults: inout [FrontFault], _ i: Int) {
        guard let left = faults[i].remaining else { return }
        if left <= 1 { faults.remove(at: i) } else { faults[i].remaining = left - 1 }
    }

    private func serve(
        route: RouteInfo, segments: [String], request: SandboxRequest, company: String, state: inout FrontState
    ) -> SandboxResponse {
        let base = state.base
        let w = state.world
        if segments == ["me"] {
            return .json(
                200,
                .object([
                    ("_links", .object([("self", .string(base + "/me"))])), ("id", .string(company)),
                    ("name", .string(company == options.defaultCompany ? w.companyName : "\(w.companyName) \(company)")),
                ]))
        }
        if segments.count == 2, route.isSearch == false {
            return single(kind: segments[0], id: segments[1], state: state)
        }
        return list(route: route, segments: segments, request: request, state: &state)
    }

    private func single(kind: String, id: String, state: FrontState) -> SandboxResponse {
        let w = state.world
        let base = state.base
        func find(_ k: FrontKind, _ count: Int, _ render: (Int) -> FrontJSON, name: String) -> SandboxResponse {
            guard let i = k.index(of: id, count: count) else { return .frontNotFound("Unknown \(name) ID \(id)") }
            return .json(200, render(i))
        }
        switch kind {
        case "accounts": return find(.account, w.accounts.count, { w.accountJSON($0, base: base) }, name: "account")
        case "channels": return find(.channel, w.channels.count, { w.channelJSON($0, base: base) }, name: "channel")
        case "inboxes": return find(.inbox, w.inboxes.count, { w.inboxJSON($0, base: base) }, name: "inbox")
        case "teammates": return find(.teammate, w.teammates.count, { w.teammateJSON($0, base: base) }, name: "teammate")
        case "teams": return find(.team, w.teams.count, { w.teamJSON($0, base: base) }, name: "team")
        case "contacts": return find(.contact, w.contacts.count, { w.contactJSON($0, base: base) }, name: "contact")
        case "events": return find(.event, w.events.count, { w.eventJSON($0, base: base) }, name: "event")
        case "conversations":
            return find(.conversation, w.conversations.count, { w.conversationJSON($0, base: base) }, name: "conversation")
        case "tags":
            guard let i = FrontKind.tag.index(of: id, count: w.tags.count), w.tags[i].deletedAt == nil else {
                return .frontNotFound("Unknown tag ID \(id)")
            }
            return .json(200, w.tagJSON(i, base: base))
        default: return .frontNotFound("Unknown resource \(kind)")
        }
    }

    /// A fresh opaque token (deterministic for a seed, unguessable enough for a sandbox).
    func issueToken(_ cursor: FrontStoredCursor, state: inout FrontState) -> String {
        state.tokenCounter += 1
        var rng = SeededRandom.front(seed: options.seed &+ state.tokenCounter &* 0x2545_F491_4F6C_DD1D)
        let token = String(rng.next(), radix: 36) + FrontBase36.encode(Int(state.tokenCounter))
        if state.cursors.count >= 500_000 { state.cursors.removeAll(keepingCapacity: true) }
        state.cursors[token] = cursor
        return token
    }
}
