import Foundation

/// Which of Front's limits a request counts against: always the company's per-minute budget,
/// plus the per-resource burst limit (5 per second), plus — for search — its 40 % share.
public struct RouteClass: Sendable, Hashable, CustomStringConvertible {
    /// First path segment: `events`, `contacts`, `conversations`, …
    public var resource: String
    public var isSearch: Bool

    public init(resource: String, isSearch: Bool = false) {
        self.resource = resource
        self.isSearch = isSearch
    }

    /// The class of a request path such as `/conversations/search/after:1 before:2`.
    public init(path: String) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        self.resource = segments.first.map(String.init) ?? ""
        self.isSearch = segments.count > 1 && segments[1] == "search"
    }

    public var description: String { isSearch ? "\(resource) search" : resource }
}

/// The rate-limit headers of one Front response, already parsed.
public struct RateLimitHeaders: Sendable, Equatable {
    public var limit: Int?
    public var remaining: Int?
    /// UNIX seconds when the company window resets.
    public var reset: Double?
    /// Seconds to wait, on a 429.
    public var retryAfter: Double?
    /// Set on a 429 from a burst ("tier") limit of one resource.
    public var tier: String?

    public init(limit: Int? = nil, remaining: Int? = nil, reset: Double? = nil, retryAfter: Double? = nil, tier: String? = nil) {
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.retryAfter = retryAfter
        self.tier = tier
    }

    /// Reads the headers (names lower-cased); `now` turns a relative reset into an absolute one.
    /// A header that is present but is not a sane number (`nan`, `inf`, `1e400`, negative, empty,
    /// or beyond any real plan) makes the whole answer suspect: it is refused, never trusted and
    /// never converted into a trap.
    public init(headers: [String: String], now: Double) throws(RateLimitHeaderError) {
        func number(_ name: String, max: Double) throws(RateLimitHeaderError) -> Double? {
            guard let text = headers[name] else { return nil }
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let value = Double(trimmed), value.isFinite, value >= 0, value <= max else {
                throw RateLimitHeaderError(name: name, value: text)
            }
            return value
        }
        limit = try number("x-ratelimit-limit", max: Self.largestCount).map { Int($0) }
        remaining = try number("x-ratelimit-remaining", max: Self.largestCount).map { Int($0) }
        if let value = try number("x-ratelimit-reset", max: Self.latestTimestamp) {
            // A UNIX timestamp per Front's docs; a small number can only be "seconds from now".
            reset = value > 1_000_000_000 ? value : now + value
        }
        retryAfter = try number("retry-after", max: Self.longestWait)
        tier = headers["x-front-tier"]
    }

    /// No plan allows more requests than this in a minute.
    static let largestCount: Double = 1_000_000
    /// UNIX seconds in the year 5138: later than any reset Front can mean.
    static let latestTimestamp: Double = 1e11
    /// A day: no retry-after asks for longer.
    static let longestWait: Double = 86_400
}

/// A rate-limit header Front sent that is not a number we can act on.
public struct RateLimitHeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var value: String

    public var description: String {
        "its \(name) header is \"\(value.prefix(40))\", not a number of requests or seconds"
    }
}

/// Front's rate limits as a value: fed the time and each response's headers, it answers how long
/// to wait before the next request of a route class. It never sleeps or reads a clock itself.
///
/// Pacing spreads the requests the company has left evenly over the time left in its window
/// (`x-ratelimit-remaining` over `x-ratelimit-reset − now`), so a long capture runs at the plan's
/// rate without 429s; search is further held to 40 % of the limit and each resource to 5 per
/// second. A 429 blocks exactly `retry-after` seconds: every route for a company limit, only that
/// resource for a burst ("tier") limit. Asking reserves the slot, so concurrent bindings sharing
/// one limiter are spread out rather than woken together.
///
/// The window's length is learnt from the headers, never configured: a minute until they show
/// otherwise (a stand-in may shorten its minute, and scales its burst "second" with it). See
/// `learn(reset:now:)`.
public struct RateLimiter: Sendable, Equatable {
    /// Requests per minute before Front has told us (the smallest plan's).
    public static let assumedLimit = 50
    /// Seconds in a window until the headers show another length: Front's minute.
    public static let assumedWindow: Double = 60
    public static let searchShare: Double = 0.4
    public static let burstPerSecond: Double = 5
    /// Window lengths believed, in seconds: a step outside these is noise, not a window.
    static let windowBounds: ClosedRange<Double> = 0.5...3600

    /// Seconds in the company's rate-limit window: `assumption` until learnt from the headers.
    /// The burst "second" (a sixtieth of it) and the search share's spacing scale with it.
    public private(set) var window: Double
    /// The window believed until the headers show one: Front's minute, unless a test knows better.
    private let assumption: Double
    /// The shortest step seen between two successive `x-ratelimit-reset` values that could be a
    /// window (see `learn`); nil until one is seen.
    public private(set) var learntStep: Double?
    /// The farthest `x-ratelimit-reset − now` seen: a window is at least that long.
    private var longestAhead: Double = 0
    /// The last `x-ratelimit-reset` Front sent (not one this value stepped forward itself).
    private var lastHeaderReset: Double?
    public private(set) var limit: Int
    /// What the company may still send in the current window, minus what we sent since.
    public private(set) var remaining: Int
    public private(set) var resetAt: Double?
    public private(set) var inFlight = 0
    private var nextCompanySlot: Double = 0
    /// When the latest reserved requests go, to re-space the next ones when Front's numbers arrive.
    /// The search and per-resource slots follow from them at the current spacing, so a window
    /// learnt meanwhile applies at once.
    private var lastCompanySlot: Double?
    private var lastSearchSlot: Double?
    private var lastResourceSlot: [String: Double] = [:]
    private var blockedUntil: Double = 0
    private var resourceBlockedUntil: [String: Double] = [:]

    /// `window`: the length assumed until the headers show one (a test against a stand-in whose
    /// shortened minute it knows may skip the first window's slower pace; nothing else should).
    public init(limit: Int = RateLimiter.assumedLimit, window: Double = RateLimiter.assumedWindow) {
        self.limit = limit
        self.remaining = limit
        let bounded = Self.windowBounds.contains(window) ? window : Self.assumedWindow
        self.assumption = bounded
        self.window = bounded
    }

    /// Reserves the next slot for a request of `route` asked for at `now`, and answers how many
    /// seconds to wait before sending it (0: send now). Pair every call with `record` or `abandon`.
    public mutating func reserve(_ route: RouteClass, now: Double) -> Double {
        // The company slot is taken from the company's own timeline: a request held back by its
        // resource or the search share does not hold back the others behind it.
        var at = max(now, nextCompanySlot, blockedUntil)
        if let reset = resetAt, at >= reset {
            // The window we knew of is over: a fresh one until Front says otherwise.
            resetAt = Self.firstWindowEnd(after: at, from: reset, window: freshWindow)
            remaining = max(0, limit - inFlight)
        }
        if remaining <= 0, let reset = resetAt {
            at = max(at, reset)
            resetAt = Self.firstWindowEnd(after: at, from: reset, window: freshWindow)
            remaining = max(0, limit - inFlight)
        }
        let companyAt = at
        let resourceSlot = lastResourceSlot[route.resource].map { $0 + burstSpacing } ?? 0
        at = max(at, resourceSlot, resourceBlockedUntil[route.resource] ?? 0)
        if route.isSearch, let last = lastSearchSlot { at = max(at, last + searchSpacing) }
        remaining -= 1
        inFlight += 1
        let spacing: Double
        if let reset = resetAt, remaining > 0 {
            spacing = (reset - companyAt) / Double(remaining + 1)
        } else if let reset = resetAt {
            spacing = reset - companyAt
        } else {
            spacing = window / Double(max(limit, 1))
        }
        nextCompanySlot = companyAt + max(0, spacing)
        lastCompanySlot = companyAt
        lastResourceSlot[route.resource] = at
        if route.isSearch { lastSearchSlot = at }
        return at - now
    }

    /// Takes in what a response's headers said about the company's budget.
    public mutating func record(status: Int, headers: RateLimitHeaders, route: RouteClass, now: Double) {
        inFlight = max(0, inFlight - 1)
        observe(status: status, headers: headers, route: route, now: now)
    }

    /// Takes in the headers of an answer to a request this limiter did not reserve: the `/me`
    /// that found which company's limiter this is, so its first run starts on Front's numbers.
    public mutating func observe(status: Int, headers: RateLimitHeaders, route: RouteClass, now: Double) {
        if let limit = headers.limit, limit > 0 { self.limit = limit }
        if let remaining = headers.remaining {
            // Requests still in flight were (most likely) not yet counted in this answer.
            self.remaining = max(0, remaining - inFlight)
        }
        if let reset = headers.reset {
            learn(reset: reset, now: now)
            resetAt = reset
        }
        // Re-space the next slots from Front's own numbers rather than from what we assumed.
        if let last = lastCompanySlot, headers.remaining != nil {
            if let reset = resetAt, reset > last {
                nextCompanySlot = last + (reset - last) / Double(remaining + 1)
            } else {
                nextCompanySlot = last + window / Double(max(limit, 1))
            }
        }
        guard status == 429 else { return }
        // Front's answer, exactly; with no retry-after, one second rather than a guess.
        let until = now + max(0, headers.retryAfter ?? 1)
        if headers.tier != nil {
            resourceBlockedUntil[route.resource] = max(resourceBlockedUntil[route.resource] ?? 0, until)
        } else {
            // The company budget is spent until then: retry-after, not the reset header, decides.
            blockedUntil = max(blockedUntil, until)
            remaining = 0
            resetAt = blockedUntil
            nextCompanySlot = blockedUntil
        }
    }

    /// Learns the window's length from a reset Front sent at `now`. A window is at least as long
    /// as the farthest reset seen ahead of now, and when the reset moves on, the step between
    /// the two is a whole number of windows (one, once requests come in successive windows): the
    /// shortest such step is the window. A step shorter than a reset already seen ahead is a reset
    /// that slides with time, not a window, and teaches nothing; the assumption (60 s) stays until
    /// a step is seen. Steps and leads outside `windowBounds` are ignored (a jumpy clock, a hostile header).
    mutating func learn(reset: Double, now: Double) {
        let ahead = reset - now
        if Self.windowBounds.contains(ahead), ahead > longestAhead { longestAhead = ahead }
        if let previous = lastHeaderReset, reset > previous {
            let step = reset - previous
            let slack = max(0.5, step * 0.05)
            if Self.windowBounds.contains(step), step + slack >= longestAhead {
                learntStep = min(learntStep ?? step, step)
            }
        }
        if reset > (lastHeaderReset ?? -.infinity) { lastHeaderReset = reset }
        let learnt = max(learntStep ?? assumption, longestAhead)
        window = min(Self.windowBounds.upperBound, max(Self.windowBounds.lowerBound, learnt))
    }

    /// Seconds a request that already holds a slot must still wait, because a 429 that arrived
    /// after it was reserved blocks its route until then (0: send it). Reserved slots are not
    /// taken back; this only keeps them from going out inside the `retry-after` of a later 429.
    public func blocked(_ route: RouteClass, now: Double) -> Double {
        max(0, max(blockedUntil, resourceBlockedUntil[route.resource] ?? 0) - now)
    }

    /// The first `reset + k × window` (k a whole number) later than `at`, computed rather than
    /// stepped: a reset far in the past costs one division, never a loop of millions.
    static func firstWindowEnd(after at: Double, from reset: Double, window: Double) -> Double {
        guard reset.isFinite, at.isFinite, window > 0 else { return at + max(window, 1) }
        guard reset <= at else { return reset }
        let windows = ((at - reset) / window).rounded(.down) + 1
        let next = reset + windows * window
        return next > at ? next : at + window
    }

    /// How long a window that began without word from Front is taken to last, until its first
    /// answer tells its reset: the learnt length, or before that the shortest it can be (the
    /// farthest reset seen ahead). Short is safe here: it only spreads the new window's full
    /// budget over less time, and the first answer corrects it; a minute would space the
    /// requests that go before that answer by 60 s ÷ limit each.
    private var freshWindow: Double {
        guard learntStep == nil, longestAhead > 0 else { return window }
        return min(window, max(Self.windowBounds.lowerBound, longestAhead))
    }

    /// One resource's spacing: 5 a second of a minute-long window, scaled as the window is.
    private var burstSpacing: Double { window / Self.assumedWindow / Self.burstPerSecond }
    private var searchSpacing: Double { window / (Self.searchShare * Double(max(limit, 1))) }

    /// A reserved request that got no answer (connection failure, cancellation).
    public mutating func abandon() {
        inFlight = max(0, inFlight - 1)
    }
}
