import Testing

@testable import Front

@Suite struct RateLimiterTests {
    let events = RouteClass(resource: "events")
    let contacts = RouteClass(resource: "contacts")
    let search = RouteClass(path: "/conversations/search/after:1 before:2")

    /// Feeds one answer with the given budget, as Front would send it.
    func answered(_ limiter: inout RateLimiter, _ route: RouteClass, remaining: Int, reset: Double, now: Double, limit: Int = 100)
    {
        limiter.record(
            status: 200, headers: RateLimitHeaders(limit: limit, remaining: remaining, reset: reset), route: route, now: now)
    }

    @Test func firstRequestGoesAtOnce() {
        var limiter = RateLimiter()
        #expect(limiter.reserve(events, now: 1000) == 0)
    }

    @Test func spreadsWhatIsLeftOverTheRestOfTheWindow() {
        var limiter = RateLimiter()
        _ = limiter.reserve(events, now: 1000)
        answered(&limiter, events, remaining: 99, reset: 1060, now: 1000)
        // 99 left over 60 s: one every 60/100 s, never faster, so no 429 in steady state.
        let first = limiter.reserve(contacts, now: 1000)
        let second = limiter.reserve(RouteClass(resource: "tags"), now: 1000)
        #expect(abs(first - 0.6) < 0.01)
        #expect(abs(second - 1.2) < 0.01)
    }

    @Test func waitsForTheResetWhenTheBudgetIsSpent() {
        var limiter = RateLimiter()
        _ = limiter.reserve(events, now: 1000)
        answered(&limiter, events, remaining: 0, reset: 1042, now: 1000)
        #expect(limiter.reserve(events, now: 1000) == 42)
    }

    @Test func aFullerBudgetNearTheResetAllowsFasterRequests() {
        var limiter = RateLimiter()
        _ = limiter.reserve(events, now: 1000)
        answered(&limiter, events, remaining: 50, reset: 1005, now: 1000)
        _ = limiter.reserve(contacts, now: 1000)
        let next = limiter.reserve(RouteClass(resource: "tags"), now: 1000)
        #expect(next < 0.2)
    }

    @Test func a429WaitsExactlyRetryAfterForEveryRoute() {
        var limiter = RateLimiter()
        _ = limiter.reserve(events, now: 1000)
        limiter.record(
            status: 429, headers: RateLimitHeaders(limit: 100, remaining: 0, reset: 1030, retryAfter: 7), route: events,
            now: 1000)
        #expect(limiter.reserve(events, now: 1000) == 7)
        var other = RateLimiter()
        _ = other.reserve(events, now: 1000)
        other.record(status: 429, headers: RateLimitHeaders(retryAfter: 3), route: events, now: 1000)
        #expect(other.reserve(contacts, now: 1001) == 2)
    }

    @Test func aBurst429BlocksOnlyItsResource() {
        var limiter = RateLimiter()
        _ = limiter.reserve(events, now: 1000)
        limiter.record(
            status: 429, headers: RateLimitHeaders(limit: 100, remaining: 80, reset: 1060, retryAfter: 2, tier: "tier-2"),
            route: events, now: 1000)
        #expect(limiter.reserve(events, now: 1000) == 2)
        #expect(limiter.reserve(contacts, now: 1000) < 2)
    }

    @Test func oneResourceStaysUnderFivePerSecond() {
        var limiter = RateLimiter(limit: 100_000)
        _ = limiter.reserve(events, now: 1000)
        answered(&limiter, events, remaining: 100_000, reset: 1001, now: 1000, limit: 100_000)
        let waits = (0..<5).map { _ in limiter.reserve(events, now: 1000) }
        for (earlier, later) in zip(waits, waits.dropFirst()) {
            #expect(later - earlier >= 0.2 - 1e-9)
        }
    }

    @Test func searchGetsFortyPercentOfTheLimit() {
        var limiter = RateLimiter()
        _ = limiter.reserve(search, now: 1000)
        answered(&limiter, search, remaining: 99, reset: 1060, now: 1000)
        let second = limiter.reserve(search, now: 1000)
        // 100 per minute → 40 searches per minute → 1.5 s apart.
        #expect(abs(second - 1.5) < 0.01)
    }

    @Test func concurrentAsksAreSpreadNotWokenTogether() {
        var limiter = RateLimiter(limit: 60)
        let waits = ["a", "b", "c", "d"].map { limiter.reserve(RouteClass(resource: $0), now: 1000) }
        #expect(waits == [0, 1, 2, 3])
    }

    @Test func headersAreReadWhateverTheirForm() throws {
        let parsed = try RateLimitHeaders(
            headers: [
                "x-ratelimit-limit": "200", "x-ratelimit-remaining": "17", "x-ratelimit-reset": "1731619500.5",
                "retry-after": "4", "x-front-tier": "tier-2",
            ],
            now: 1_731_619_000)
        #expect(parsed == RateLimitHeaders(limit: 200, remaining: 17, reset: 1_731_619_500.5, retryAfter: 4, tier: "tier-2"))
        #expect(try RateLimitHeaders(headers: ["x-ratelimit-reset": "30"], now: 1_731_619_000).reset == 1_731_619_030)
    }

    @Test(arguments: [
        ("x-ratelimit-limit", "nan"), ("x-ratelimit-limit", "inf"), ("x-ratelimit-limit", "1e400"),
        ("x-ratelimit-limit", "-5"), ("x-ratelimit-limit", ""), ("x-ratelimit-remaining", "NaN"),
        ("x-ratelimit-remaining", "9223372036854775808"), ("x-ratelimit-reset", "-infinity"),
        ("x-ratelimit-reset", "1e300"), ("retry-after", "nan"), ("retry-after", "-1"), ("retry-after", "abc"),
    ])
    func aHeaderThatIsNoSaneNumberIsRefusedNamingIt(name: String, value: String) {
        #expect(throws: RateLimitHeaderError(name: name, value: value)) {
            try RateLimitHeaders(headers: [name: value], now: 1_731_619_000)
        }
    }

    @Test func routeClassesComeFromThePath() {
        #expect(
            RouteClass(path: "/conversations/search/after:1 before:2") == RouteClass(resource: "conversations", isSearch: true))
        #expect(RouteClass(path: "/events") == RouteClass(resource: "events"))
    }

    @Test func aSlotReservedBeforeA429WaitsOutItsRetryAfter() {
        var limiter = RateLimiter()
        _ = limiter.reserve(events, now: 1000)
        answered(&limiter, events, remaining: 90, reset: 1060, now: 1000)
        let early = limiter.reserve(contacts, now: 1000)
        #expect(early < 1)
        #expect(limiter.blocked(contacts, now: 1000 + early) == 0)
        // The events request that went first is answered 429 before the contacts one is sent.
        limiter.record(
            status: 429, headers: RateLimitHeaders(remaining: 0, retryAfter: 5), route: events, now: 1000.1)
        #expect(abs(limiter.blocked(contacts, now: 1000 + early) - (5.1 - early)) < 0.001)
        #expect(limiter.blocked(contacts, now: 1005.1) == 0)
    }

    @Test func aWindowLearntFromTheHeadersScalesBurstAndSearchSpacing() {
        var limiter = RateLimiter()
        // Two answers in successive 6 s windows: the reset stepped by 6.
        _ = limiter.reserve(search, now: 1000)
        answered(&limiter, search, remaining: 99, reset: 1004, now: 1000)
        #expect(limiter.window == 60)
        _ = limiter.reserve(search, now: 1004.5)
        // (A budget so large that the company's spacing does not hide the others.)
        answered(&limiter, search, remaining: 10_000, reset: 1010, now: 1004.5)
        #expect(limiter.window == 6)
        // Search: 40 of 100 per 6 s, one every 0.15 s (not every 1.5 s of a real minute).
        let searchWait = limiter.reserve(search, now: 1004.5)
        #expect(abs(searchWait - 0.15) < 0.001)
        // Bursts: 5 per tenth of a second for one resource.
        let first = limiter.reserve(events, now: 1004.5)
        #expect(abs(limiter.reserve(events, now: 1004.5) - first - 0.02) < 0.001)
    }

    @Test func aResetThatSlidesWithTimeTeachesNoWindow() {
        var limiter = RateLimiter()
        for second in 0..<20 {
            let now = 1000 + Double(second)
            _ = limiter.reserve(events, now: now)
            answered(&limiter, events, remaining: 90, reset: now + 60, now: now)
        }
        #expect(limiter.window == 60)
        #expect(limiter.learntStep == nil)
    }

    @Test func aQuietGapOfSeveralWindowsIsNotTakenForOne() {
        var limiter = RateLimiter()
        _ = limiter.reserve(events, now: 1000)
        answered(&limiter, events, remaining: 99, reset: 1006, now: 1000)
        // Nothing in the next window, then an answer in the one after: a step of 12 s.
        _ = limiter.reserve(events, now: 1013)
        answered(&limiter, events, remaining: 99, reset: 1018, now: 1013)
        #expect(limiter.window == 12)
        // Then successive windows: the shortest step wins.
        _ = limiter.reserve(events, now: 1018.5)
        answered(&limiter, events, remaining: 99, reset: 1024, now: 1018.5)
        #expect(limiter.window == 6)
    }

    @Test func aResetFartherAheadThanTheWindowLengthensIt() {
        var limiter = RateLimiter()
        _ = limiter.reserve(events, now: 1000)
        answered(&limiter, events, remaining: 99, reset: 1006, now: 1000)
        _ = limiter.reserve(events, now: 1006.5)
        answered(&limiter, events, remaining: 99, reset: 1012, now: 1006.5)
        #expect(limiter.window == 6)
        // The stand-in restarted with a real minute.
        _ = limiter.reserve(events, now: 1007)
        answered(&limiter, events, remaining: 99, reset: 1067, now: 1007)
        #expect(limiter.window == 60)
    }

    @Test(arguments: [(1e11, 1000.0), (1000.5, 1000.0), (5000.0, 1000.0)])
    func aWildResetTeachesNoWildWindow(reset: Double, now: Double) {
        var limiter = RateLimiter()
        _ = limiter.reserve(events, now: now)
        answered(&limiter, events, remaining: 99, reset: 1006, now: now)
        _ = limiter.reserve(events, now: now)
        answered(&limiter, events, remaining: 99, reset: reset, now: now)
        #expect(RateLimiter.windowBounds.contains(limiter.window))
        #expect(limiter.window == 60)
        #expect(limiter.reserve(events, now: now).isFinite)
    }

    // MARK: Pace over many windows, against a simulated Front

    @Test func againstSixSecondWindowsItPacesAtTheirRateAfterTheFirst() {
        let run = PacedRun(window: 6, limit: 100, streams: [events, contacts, RouteClass(resource: "tags")], windows: 10)
        #expect(run.rateLimited == 0)
        // From the second window on: 100 per 6 s, 16.7 a second, and no faster.
        let rate = run.rate(windows: 1..<10)
        #expect(rate > 15.5 && rate <= 100.0 / 6 + 0.01, "\(rate) requests a second")
    }

    @Test func oneResourceAgainstSixSecondWindowsIsNotHeldToFiveASecond() {
        let run = PacedRun(window: 6, limit: 100, streams: [events], windows: 10)
        #expect(run.rateLimited == 0)
        let rate = run.rate(windows: 1..<10)
        #expect(rate > 15.5 && rate <= 100.0 / 6 + 0.01, "\(rate) requests a second")
    }

    @Test func againstMinuteWindowsItPacesAtThePlansRate() {
        let run = PacedRun(window: 60, limit: 100, streams: [events, contacts], windows: 5)
        #expect(run.rateLimited == 0)
        let rate = run.rate(windows: 1..<5)
        #expect(rate > 1.6 && rate <= 100.0 / 60 + 0.001, "\(rate) requests a second")
        // The first window's budget is used too, not left idle on a guess.
        #expect(run.sent(windows: 0..<1) >= 95)
    }

    @Test func searchAgainstSixSecondWindowsGetsItsShareAfterTheFirst() {
        let run = PacedRun(window: 6, limit: 100, streams: [search], windows: 10)
        #expect(run.rateLimited == 0)
        let rate = run.rate(windows: 1..<10)
        // 40 % of 100 per 6 s.
        #expect(rate > 6 && rate <= 40.0 / 6 + 0.01, "\(rate) searches a second")
    }
}

/// Front as a value, for the pacing tests: fixed windows of `window` seconds from `origin`, each
/// with `limit` requests (search 40 % of them), answering with the three headers as the stand-in.
struct SimulatedFront {
    let window: Double
    let limit: Int
    let origin: Double
    private var index = -1
    private var used = 0
    private var searches = 0

    init(window: Double, limit: Int, origin: Double) {
        self.window = window
        self.limit = limit
        self.origin = origin
    }

    mutating func answer(_ route: RouteClass, at now: Double) -> (status: Int, headers: RateLimitHeaders) {
        let current = Int(((now - origin) / window).rounded(.down))
        if current != index { (index, used, searches) = (current, 0, 0) }
        let reset = origin + Double(current + 1) * window
        let searchLimit = Int(Double(limit) * RateLimiter.searchShare)
        if used >= limit || (route.isSearch && searches >= searchLimit) {
            return (429, RateLimitHeaders(limit: limit, remaining: limit - used, reset: reset, retryAfter: reset - now))
        }
        used += 1
        if route.isSearch { searches += 1 }
        return (200, RateLimitHeaders(limit: limit, remaining: limit - used, reset: reset))
    }
}

/// Streams of requests (one per route, each sending its next once the last is answered, as the
/// engine's bindings do) through one `RateLimiter` against a `SimulatedFront`, in virtual time,
/// for `windows` of Front's windows from the first request: when each request went, and how
/// many answered 429. Window 0 is the one the first request falls in (the limiter learns the
/// length when it ends).
struct PacedRun {
    private(set) var sends: [Double] = []
    private(set) var rateLimited = 0
    let window: Double
    /// Where the first window ends: the first request went 30 % of a window after it began.
    let firstReset: Double

    init(window: Double, limit: Int, streams: [RouteClass], windows: Int, start: Double = 1000, latency: Double = 0.01) {
        var limiter = RateLimiter()
        self.window = window
        let origin = start - window * 0.3
        firstReset = origin + window
        let end = origin + Double(windows) * window
        var front = SimulatedFront(window: window, limit: limit, origin: origin)
        enum Step {
            case ask
            case send
            case answered(status: Int, headers: RateLimitHeaders)
        }
        // Each stream's next step and when it is due.
        var due: [(at: Double, step: Step)] = streams.map { _ in (start, .ask) }
        while let i = due.indices.min(by: { due[$0].at < due[$1].at }), due[i].at < end {
            let now = due[i].at
            let route = streams[i]
            switch due[i].step {
            case .ask:
                due[i] = (now + limiter.reserve(route, now: now), .send)
            case .send:
                let blocked = limiter.blocked(route, now: now)
                if blocked > 0 {
                    due[i] = (now + blocked, .send)
                    continue
                }
                sends.append(now)
                let answer = front.answer(route, at: now)
                if answer.status == 429 { rateLimited += 1 }
                due[i] = (now + latency, .answered(status: answer.status, headers: answer.headers))
            case .answered(let status, let headers):
                limiter.record(status: status, headers: headers, route: route, now: now)
                due[i] = (now, .ask)
            }
        }
    }

    /// Requests sent in those windows (window 0 from the first request only).
    func sent(windows: Range<Int>) -> Int {
        let from = firstReset + Double(windows.lowerBound - 1) * window
        let to = firstReset + Double(windows.upperBound - 1) * window
        return sends.filter { $0 >= from && $0 < to }.count
    }

    /// Requests a second in those whole windows (from window 1 on).
    func rate(windows: Range<Int>) -> Double { Double(sent(windows: windows)) / (Double(windows.count) * window) }
}
