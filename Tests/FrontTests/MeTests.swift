import Foundation
import SwitchboardTesting
import Testing
import Transport

@testable import Front

/// `GET /me` and the budgets it keys: one limiter per company, fed `/me`'s headers.
@Suite struct MeTests {
    let clock = TestClock()

    var frontClock: FrontClock {
        let clock = self.clock
        return FrontClock(now: { clock.unixTime }, sleep: clock.sleep(seconds:))
    }

    func me(_ id: String, name: String = "Acme", remaining: Int = 97, resetIn: Double = 42) -> ScriptedTransport.Step {
        .json(
            #"{"_links":{"self":"x"},"id":"\#(id)","name":"\#(name)"}"#,
            headers: [
                "x-ratelimit-limit": "100", "x-ratelimit-remaining": "\(remaining)",
                "x-ratelimit-reset": String(clock.unixTime + resetIn),
            ])
    }

    func connect(_ budgets: FrontBudgets, _ transport: ScriptedTransport, token: String = "t") async throws(FrontError)
        -> FrontConnection
    {
        try await budgets.connect(
            token: FrontToken(token)!, baseURL: URL(string: "http://127.0.0.1:9")!, transport: transport,
            retry: FrontRetryPolicy(attempts: 3), clock: frontClock)
    }

    @Test func meAnswersTheTokensCompany() async throws {
        let transport = ScriptedTransport([me("cmp_1a2b", name: "Acme Support")])
        let client = FrontClient(
            token: FrontToken("t")!, baseURL: URL(string: "http://127.0.0.1:9")!, transport: transport, clock: frontClock)
        let answer = try await client.me()
        #expect(answer.company == FrontCompany(id: "cmp_1a2b", name: "Acme Support"))
        #expect(answer.requests == 1)
        #expect(transport.requests.first?.url.absoluteString == "http://127.0.0.1:9/me")
        #expect(transport.requests.first?.headers["Authorization"] == "Bearer t")
    }

    @Test func a401OnMeSaysTheTokenIsRefused() async {
        let transport = ScriptedTransport([
            .json(#"{"_error":{"status":401,"title":"Unauthenticated","message":"JSON Web Token error"}}"#, status: 401)
        ])
        await #expect {
            _ = try await connect(FrontBudgets(), transport, token: "s3cr3t")
        } throws: { error in
            guard case .unauthorized(let route, _) = error as? FrontError else { return false }
            let text = "\(error)"
            return route == "/me" && text.contains("token is wrong, expired or revoked") && !text.contains("s3cr3t")
        }
    }

    @Test(arguments: [
        #"{"name":"no id"}"#, #"{"id":""}"#, #"{"id":42}"#, #"["cmp_1"]"#, #"{"id":"cmp 1"}"#, "not json",
        #"{"id":"cmp_\#(String(repeating: "x", count: 300))"}"#,
    ])
    func aMeAnswerWithoutAUsableCompanyIdIsRefused(body: String) async {
        let transport = ScriptedTransport([.json(body)])
        await #expect {
            _ = try await connect(FrontBudgets(), transport)
        } throws: { error in
            guard case .malformed(let route, _) = error as? FrontError else { return false }
            return route == "/me"
        }
    }

    @Test func aServerErrorOnMeIsRetried() async throws {
        let transport = ScriptedTransport([.reply(HTTPResponse(status: 503)), me("cmp_1")])
        let connection = try await connect(FrontBudgets(), transport)
        #expect(connection.company.id == "cmp_1")
        #expect(connection.requests == 2)
    }

    @Test func tokensOfOneCompanyShareOneLimiterAndOthersHaveTheirOwn() async throws {
        let budgets = FrontBudgets()
        let first = try await connect(budgets, ScriptedTransport([me("cmp_a")]), token: "one")
        let second = try await connect(budgets, ScriptedTransport([me("cmp_a")]), token: "two")
        let other = try await connect(budgets, ScriptedTransport([me("cmp_b")]), token: "three")
        #expect(first.company == second.company)
        #expect(other.company.id == "cmp_b")
        #expect(budgets.limiter(company: "cmp_a") === budgets.limiter(company: "cmp_a"))
        #expect(budgets.limiter(company: "cmp_a") !== budgets.limiter(company: "cmp_b"))
    }

    @Test func theCompanysLimiterStartsOnMesHeadersNotAGuess() async throws {
        let budgets = FrontBudgets()
        _ = try await connect(budgets, ScriptedTransport([me("cmp_a", remaining: 37, resetIn: 20)]))
        let state = await budgets.limiter(company: "cmp_a").snapshot
        #expect(state.limit == 100)
        #expect(state.remaining == 37)
        #expect(state.inFlight == 0)
        #expect(abs((state.resetAt ?? 0) - (clock.unixTime + 20)) < 0.01)
    }

    @Test func theConnectedClientPacesOnTheCompanysBudget() async throws {
        let budgets = FrontBudgets()
        let transport = ScriptedTransport([me("cmp_a", remaining: 10, resetIn: 11), .json(emptyPage), .json(emptyPage)])
        let connection = try await connect(budgets, transport)
        _ = try await connection.client.page(connection.client.url("/tags"))
        _ = try await connection.client.page(connection.client.url("/teams"))
        // 10 left over 11 s: the second list waits its share (1.1 s), not the assumed 50-a-minute's 1.2.
        let waits = clock.sleeps.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        #expect(waits.count == 1)
        #expect(abs((waits.first ?? 0) - 1.1) < 0.01, "\(waits)")
    }
}
