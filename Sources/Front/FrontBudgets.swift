import Synchronization

/// The registry of Front rate budgets: one `CompanyRateLimiter` per key (a Front company),
/// shared by every capture and every run in this process that uses that key, so that their
/// requests together stay within the company's limit.
public final class FrontBudgets: Sendable {
    /// Length of Front's rate-limit minute in seconds (60, or shorter against a stand-in).
    public let minute: Double
    private let limiters = Mutex<[String: CompanyRateLimiter]>([:])

    public init(minute: Double = RateLimiter.window) {
        self.minute = minute
    }

    /// The budget of `key`, made on first use.
    public func limiter(for key: String) -> CompanyRateLimiter {
        limiters.withLock { all in
            if let existing = all[key] { return existing }
            let made = CompanyRateLimiter(minute: minute)
            all[key] = made
            return made
        }
    }
}
