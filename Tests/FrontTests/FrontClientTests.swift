import Foundation
import SwitchboardTesting
import Testing
import Transport

@testable import Front

let emptyPage = #"{"_pagination":{"next":null},"_links":{"self":"x"},"_results":[]}"#
let secret = "s3cr3t-t0k3n"

@Suite struct FrontClientTests {
    let clock = TestClock()

    func client(_ transport: ScriptedTransport) -> FrontClient {
        let clock = self.clock
        return FrontClient(
            token: FrontToken(secret)!, baseURL: URL(string: "http://127.0.0.1:9")!, transport: transport,
            retry: FrontRetryPolicy(attempts: 3), clock: FrontClock(now: { clock.unixTime }, sleep: clock.sleep(seconds:)))
    }

    @Test func sendsTheTokenAsBearerAndOnlyThere() async throws {
        let transport = ScriptedTransport([.json(emptyPage)])
        let front = client(transport)
        _ = try await front.page(front.url("/events", [("q[after]", "1.000"), ("limit", "15")]))
        let request = try #require(transport.requests.first)
        #expect(request.headers["Authorization"] == "Bearer \(secret)")
        #expect(request.url.absoluteString == "http://127.0.0.1:9/events?q%5Bafter%5D=1.000&limit=15")
        #expect(!"\(front)".contains(secret))
        #expect(!String(reflecting: FrontToken(secret)!).contains(secret))
    }

    @Test func searchQueriesArePutInThePath() {
        let front = client(ScriptedTransport([]))
        let url = front.url("/conversations/search/after:1.000 before:2.000", [("limit", "100")])
        #expect(url.absoluteString == "http://127.0.0.1:9/conversations/search/after:1.000%20before:2.000?limit=100")
    }

    @Test func a429WaitsExactlyRetryAfterThenRetries() async throws {
        let transport = ScriptedTransport([
            .json(
                #"{"_error":{"status":429,"title":"Too many requests","message":"Rate limit exceeded"}}"#, status: 429,
                headers: ["retry-after": "7", "x-ratelimit-limit": "100", "x-ratelimit-remaining": "0"]),
            .json(emptyPage),
        ])
        let result = try await client(transport).page(URL(string: "http://127.0.0.1:9/tags")!)
        #expect(result.requests == 2)
        #expect(clock.sleeps == [.seconds(7)])
    }

    @Test func serverErrorsAndBrokenConnectionsAreRetriedWithBackoffThenGiveUp() async {
        let url = URL(string: "http://127.0.0.1:9/contacts")!
        let transport = ScriptedTransport([
            .reply(HTTPResponse(status: 502, body: Data("<html>bad gateway</html>".utf8))),
            .fail(.connectionFailed(url, "reset")),
            .fail(.timedOut(url)),
        ])
        await #expect {
            try await client(transport).page(url)
        } throws: { error in
            guard case .unavailable(let route, let attempts, _) = error as? FrontError else { return false }
            return route == "/contacts" && attempts == 3
        }
        #expect(clock.sleeps.filter { $0 >= .seconds(1) } == [.seconds(1), .seconds(2)])
    }

    @Test func retriedServerErrorsSucceedWhenFrontComesBack() async throws {
        let transport = ScriptedTransport([.reply(HTTPResponse(status: 503)), .json(emptyPage)])
        let result = try await client(transport).page(URL(string: "http://127.0.0.1:9/tags")!)
        #expect(result.requests == 2)
    }

    @Test func a401SaysTheTokenIsWrongAndNeverShowsIt() async {
        let transport = ScriptedTransport([
            .json(#"{"_error":{"status":401,"title":"Unauthenticated","message":"JSON Web Token error"}}"#, status: 401)
        ])
        await #expect {
            try await client(transport).page(URL(string: "http://127.0.0.1:9/teams")!)
        } throws: { error in
            let text = "\(error)"
            return text.contains("token is wrong") && !text.contains(secret) && transport.requests.count == 1
        }
    }

    @Test func a403NamesTheMissingScope() async {
        let transport = ScriptedTransport([.json(#"{"_error":{"status":403,"title":"Forbidden","message":"nope"}}"#, status: 403)]
        )
        await #expect {
            try await client(transport).page(URL(string: "http://127.0.0.1:9/conversations/search/after:1%20before:2")!)
        } throws: { error in
            "\(error)".contains("conversations:read")
        }
    }

    @Test func malformedJSONNamesTheRoute() async {
        let transport = ScriptedTransport([.json(#"{"_results": [ oops"#)])
        await #expect {
            try await client(transport).page(URL(string: "http://127.0.0.1:9/events?q%5Bafter%5D=1.000&page_token=x")!)
        } throws: { error in
            guard case .malformed(let route, _) = error as? FrontError else { return false }
            return route == "/events?q[after]=1.000"
        }
    }

    @Test func otherClientErrorsStopWithFrontsMessage() async {
        let transport = ScriptedTransport([
            .json(#"{"_error":{"status":400,"title":"Bad request","message":"Unknown page token"}}"#, status: 400)
        ])
        await #expect {
            try await client(transport).page(URL(string: "http://127.0.0.1:9/tags")!)
        } throws: { error in
            "\(error)".contains("Unknown page token") && transport.requests.count == 1
        }
    }

    @Test(arguments: ["nan", "inf", "1e400", "-3", ""])
    func aBadRateLimitHeaderFailsThePageNamingTheHeader(value: String) async {
        let transport = ScriptedTransport([.json(emptyPage, headers: ["x-ratelimit-limit": value])])
        await #expect {
            try await client(transport).page(URL(string: "http://127.0.0.1:9/tags")!)
        } throws: { error in
            guard case .malformed(_, let detail) = error as? FrontError else { return false }
            return detail.contains("x-ratelimit-limit") && transport.requests.count == 1
        }
    }

    @Test(arguments: ["1e400", "-1", "1e300", "-1e400"])
    func aDocumentWithAnImpossibleTimestampFailsThePage(value: String) async {
        let page = #"{"_pagination":{"next":null},"_links":{"self":"x"},"_results":[{"id":"evt_1","emitted_at":"# + value + "}]}"
        let transport = ScriptedTransport([.json(page)])
        await #expect {
            try await client(transport).page(URL(string: "http://127.0.0.1:9/events")!)
        } throws: { error in
            guard case .malformed = error as? FrontError else { return false }
            return true
        }
    }
}
