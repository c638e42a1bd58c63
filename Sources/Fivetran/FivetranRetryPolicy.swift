import Foundation

/// When to try a Fivetran request again: a pure value fed what happened and the time, answering
/// how long to wait or to give up. The client only sleeps and sends, so every rule here is
/// tested without sockets or clocks.
///
/// - 429: wait `Retry-After` seconds (or `defaultRetryAfter` when absent), at most
///   `maxRateLimitRetries` times.
/// - 5xx and no answer at all: exponential backoff from `baseDelay`, capped at `maxDelay`, at most
///   `maxAttempts` attempts in all. Only for idempotent requests: a create that timed out may have
///   been done, and sending it again would only answer 409.
/// - Never a wait that ends past the caller's deadline.
public struct FivetranRetryPolicy: Sendable, Hashable {
    /// Attempts in all (first one included) for 5xx and transport errors.
    public var maxAttempts: Int
    /// Retries after a 429, separate from `maxAttempts` since waiting out a limit is expected.
    public var maxRateLimitRetries: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// The wait after a 429 that carries no usable `Retry-After`.
    public var defaultRetryAfter: Duration

    public init(
        maxAttempts: Int = 3, maxRateLimitRetries: Int = 3, baseDelay: Duration = .milliseconds(250),
        maxDelay: Duration = .seconds(4), defaultRetryAfter: Duration = .seconds(1)
    ) {
        self.maxAttempts = maxAttempts
        self.maxRateLimitRetries = maxRateLimitRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.defaultRetryAfter = defaultRetryAfter
    }

    /// Never retry.
    public static let none = FivetranRetryPolicy(maxAttempts: 1, maxRateLimitRetries: 0)

    /// What one attempt ended with.
    public enum Outcome: Sendable, Hashable {
        /// An HTTP answer that was not 2xx; `retryAfter` is the parsed `Retry-After` header.
        case status(Int, retryAfter: Duration?)
        /// No HTTP answer (refused, reset, timed out).
        case transportError
    }

    public enum Decision: Sendable, Hashable {
        case retry(after: Duration)
        case fail
    }

    /// The attempts so far, by kind; a value the client keeps between attempts.
    public struct State: Sendable, Hashable {
        public var attempts = 0
        public var rateLimited = 0
        public var failures = 0
        public init() {}
    }

    /// Records the attempt that just ended and answers what to do next.
    public func next(
        after outcome: Outcome, state: inout State, idempotent: Bool,
        now: ContinuousClock.Instant, deadline: ContinuousClock.Instant?
    ) -> Decision {
        state.attempts += 1
        let wait: Duration
        switch outcome {
        case .status(429, let retryAfter):
            state.rateLimited += 1
            guard state.rateLimited <= maxRateLimitRetries else { return .fail }
            wait = retryAfter ?? defaultRetryAfter
        case .status(500...599, _), .transportError:
            state.failures += 1
            guard idempotent, state.failures < maxAttempts else { return .fail }
            wait = backoff(failure: state.failures)
        case .status:
            return .fail
        }
        if let deadline, now.advanced(by: wait) > deadline { return .fail }
        return .retry(after: wait)
    }

    /// `baseDelay × 2^(n-1)`, capped at `maxDelay`.
    func backoff(failure n: Int) -> Duration {
        var delay = baseDelay
        for _ in 1..<max(n, 1) where delay < maxDelay { delay *= 2 }
        return min(delay, maxDelay)
    }

    /// `Retry-After` as Fivetran sends it: whole seconds. Anything else is treated as absent.
    public static func parseRetryAfter(_ header: String?) -> Duration? {
        guard let text = header?.trimmingCharacters(in: .whitespaces), let seconds = Int(text), seconds >= 0 else {
            return nil
        }
        return .seconds(seconds)
    }
}
