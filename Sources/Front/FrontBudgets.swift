import Foundation
import Synchronization
import Transport

/// The registry of Front rate budgets: one `CompanyRateLimiter` per Front company (the id `/me`
/// answers), shared by every binding of every capture run in this process for that company, so
/// that their requests together stay within the company's limit, however many captures there
/// are, while captures of different companies run side by side at their own full speed.
public final class FrontBudgets: Sendable {
    private let limiters = Mutex<[String: CompanyRateLimiter]>([:])
    /// The company each token was last found to belong to, keyed by the token's hash in this
    /// process (never its text), so a token's later `/me` is paced on its company's budget.
    private let companies = Mutex<[Int: String]>([:])

    public init() {}

    /// The budget of the company `id`, made on first use.
    public func limiter(company id: String) -> CompanyRateLimiter {
        limiters.withLock { all in
            if let existing = all[id] { return existing }
            let made = CompanyRateLimiter()
            all[id] = made
            return made
        }
    }

    /// A client for `token` on its company's budget: asks `/me` which company the token belongs
    /// to, takes that company's one limiter, and feeds it the `/me` answer's `x-ratelimit-*`
    /// headers, so the first request of a run is paced on Front's numbers, not a guess. A token
    /// seen before asks `/me` on its company's budget; a new one on a limiter of its own (one
    /// request, whose answer the company's limiter then takes in).
    public func connect(
        token: FrontToken, baseURL: URL = FrontClient.defaultBaseURL, transport: any HTTPTransport = URLSessionTransport(),
        retry: FrontRetryPolicy = FrontRetryPolicy(), clock: FrontClock = .system
    ) async throws(FrontError) -> FrontConnection {
        var hasher = Hasher()
        hasher.combine(token.authorization)
        let key = hasher.finalize()
        let known = companies.withLock { $0[key] }.map { self.limiter(company: $0) }
        let probe = FrontClient(
            token: token, baseURL: baseURL, transport: transport, limiter: known ?? CompanyRateLimiter(), retry: retry,
            clock: clock)
        let answer = try await probe.meAnswer()
        companies.withLock { $0[key] = answer.company.id }
        let budget = self.limiter(company: answer.company.id)
        if known !== budget {
            await budget.observe(status: 200, headers: answer.headers, route: RouteClass(resource: "me"), now: answer.at)
        }
        let client = FrontClient(
            token: token, baseURL: baseURL, transport: transport, limiter: budget, retry: retry, clock: clock)
        return FrontConnection(client: client, company: answer.company, requests: answer.requests)
    }
}

/// A client ready to run on its company's budget, the company, and the HTTP attempts `/me` took
/// (the run's requests count them too).
public struct FrontConnection: Sendable {
    public var client: FrontClient
    public var company: FrontCompany
    public var requests: Int
}
