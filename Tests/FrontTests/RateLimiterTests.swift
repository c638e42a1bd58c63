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

    @Test func aShortenedMinuteScalesBurstAndSearchSpacing() {
        var limiter = RateLimiter(limit: 100, minute: 6)
        _ = limiter.reserve(search, now: 1000)
        answered(&limiter, search, remaining: 1000, reset: 1006, now: 1000)
        // Search: 40 of 100 per 6 s, one every 0.15 s (not every 1.5 s of a real minute).
        #expect(abs(limiter.reserve(search, now: 1000) - 0.15) < 0.001)
        // Bursts: 5 per tenth of a second for one resource.
        let first = limiter.reserve(events, now: 1000)
        #expect(abs(limiter.reserve(events, now: 1000) - first - 0.02) < 0.001)
    }
}
