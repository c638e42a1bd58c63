import Testing

@testable import Sandbox

/// The limiter is a value fed explicit times: no sockets, no sleeping.
@Suite("Front rate limiter")
struct FrontRateLimiterTests {
    @Test("the company budget empties, answers the exact wait to the window's end, and refills there")
    func companyWindow() {
        var limiter = FrontRateLimiter(limit: 3, searchShare: 0.4, minuteLength: 6, burstPerSecond: nil, origin: 1000)
        for i in 0..<3 { #expect(limiter.admit(resource: "events", isSearch: false, now: 1000.5 + Double(i)).allowed) }
        let over = limiter.admit(resource: "events", isSearch: false, now: 1004)
        #expect(!over.allowed && over.kind == .company && over.remaining == 0)
        #expect(over.reset == 1006 && over.wait == 2)
        let next = limiter.admit(resource: "events", isSearch: false, now: 1006)
        #expect(next.allowed && next.remaining == 2 && next.reset == 1012)
    }

    @Test("search gets 40 % of the company budget and is refused while the company still has room")
    func searchShare() {
        var limiter = FrontRateLimiter(limit: 10, searchShare: 0.4, minuteLength: 60, burstPerSecond: nil, origin: 0)
        for _ in 0..<4 { #expect(limiter.admit(resource: "search", isSearch: true, now: 1).allowed) }
        let refused = limiter.admit(resource: "search", isSearch: true, now: 2)
        #expect(!refused.allowed && refused.kind == .search && refused.remaining == 6)
        #expect(limiter.admit(resource: "events", isSearch: false, now: 2).allowed)
    }

    @Test("the burst window scales with the minute length and is per resource")
    func burst() {
        var limiter = FrontRateLimiter(limit: 1000, searchShare: 0.4, minuteLength: 6, burstPerSecond: 5, origin: 0)
        for i in 0..<5 { #expect(limiter.admit(resource: "tags", isSearch: false, now: 1 + Double(i) * 0.01).allowed) }
        let refused = limiter.admit(resource: "tags", isSearch: false, now: 1.05)
        #expect(!refused.allowed && refused.kind == .burst && refused.remaining == 995)
        #expect(abs(refused.wait - 0.05) < 1e-9)  // the first of the five leaves the 0.1 s window at 1.1
        #expect(limiter.admit(resource: "teams", isSearch: false, now: 1.05).allowed)
        #expect(limiter.admit(resource: "tags", isSearch: false, now: 1.11).allowed)
    }

    @Test("timestamps render as seconds with at most three decimals")
    func timeFormat() {
        #expect(FrontTime.seconds(1_731_619_498_317) == "1731619498.317")
        #expect(FrontTime.seconds(1_703_102_616_000) == "1703102616")
        #expect(FrontTime.seconds(1_703_102_616_050) == "1703102616.05")
        #expect(FrontTime.seconds(1_703_102_616_007) == "1703102616.007")
        #expect(FrontTime.parseSeconds("1731542400.317") == 1_731_542_400_317)
    }
}
