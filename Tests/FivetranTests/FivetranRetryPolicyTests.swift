import Fivetran
import Testing

@Suite struct FivetranRetryPolicyTests {
    let policy = FivetranRetryPolicy(
        maxAttempts: 3, maxRateLimitRetries: 2, baseDelay: .milliseconds(100), maxDelay: .milliseconds(300))
    let now = ContinuousClock.now

    @Test func aRateLimitWaitsRetryAfter() {
        var state = FivetranRetryPolicy.State()
        let decision = policy.next(
            after: .status(429, retryAfter: .seconds(7)), state: &state, idempotent: true, now: now, deadline: nil)
        #expect(decision == .retry(after: .seconds(7)))
    }

    @Test func aRateLimitWithoutRetryAfterWaitsTheDefault() {
        var state = FivetranRetryPolicy.State()
        let decision = policy.next(after: .status(429, retryAfter: nil), state: &state, idempotent: true, now: now, deadline: nil)
        #expect(decision == .retry(after: policy.defaultRetryAfter))
    }

    @Test func rateLimitRetriesAreBounded() {
        var state = FivetranRetryPolicy.State()
        let outcome = FivetranRetryPolicy.Outcome.status(429, retryAfter: .seconds(1))
        #expect(
            policy.next(after: outcome, state: &state, idempotent: true, now: now, deadline: nil) == .retry(after: .seconds(1)))
        #expect(
            policy.next(after: outcome, state: &state, idempotent: true, now: now, deadline: nil) == .retry(after: .seconds(1)))
        #expect(policy.next(after: outcome, state: &state, idempotent: true, now: now, deadline: nil) == .fail)
    }

    @Test func aWaitPastTheDeadlineFails() {
        var state = FivetranRetryPolicy.State()
        let deadline = now.advanced(by: .seconds(5))
        let decision = policy.next(
            after: .status(429, retryAfter: .seconds(3600)), state: &state, idempotent: true, now: now, deadline: deadline)
        #expect(decision == .fail)
        var state2 = FivetranRetryPolicy.State()
        #expect(
            policy.next(
                after: .status(429, retryAfter: .seconds(5)), state: &state2, idempotent: true, now: now, deadline: deadline)
                == .retry(after: .seconds(5)))
    }

    @Test func serverErrorsBackOffExponentiallyAndStop() {
        var state = FivetranRetryPolicy.State()
        #expect(
            policy.next(after: .status(503, retryAfter: nil), state: &state, idempotent: true, now: now, deadline: nil)
                == .retry(after: .milliseconds(100)))
        #expect(
            policy.next(after: .transportError, state: &state, idempotent: true, now: now, deadline: nil)
                == .retry(after: .milliseconds(200)))
        #expect(
            policy.next(after: .status(500, retryAfter: nil), state: &state, idempotent: true, now: now, deadline: nil) == .fail)
        #expect(state.attempts == 3)
    }

    @Test func backoffIsCapped() {
        let long = FivetranRetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .milliseconds(300))
        var state = FivetranRetryPolicy.State()
        var waits: [FivetranRetryPolicy.Decision] = []
        for _ in 0..<4 {
            waits.append(long.next(after: .transportError, state: &state, idempotent: true, now: now, deadline: nil))
        }
        #expect(
            waits == [
                .retry(after: .milliseconds(100)), .retry(after: .milliseconds(200)), .retry(after: .milliseconds(300)),
                .retry(after: .milliseconds(300)),
            ])
    }

    @Test func aCreateIsNotResentAfterAServerErrorButWaitsOutARateLimit() {
        var state = FivetranRetryPolicy.State()
        #expect(
            policy.next(after: .status(500, retryAfter: nil), state: &state, idempotent: false, now: now, deadline: nil) == .fail)
        var state2 = FivetranRetryPolicy.State()
        #expect(
            policy.next(after: .status(429, retryAfter: .seconds(2)), state: &state2, idempotent: false, now: now, deadline: nil)
                == .retry(after: .seconds(2)))
    }

    @Test(arguments: [400, 401, 403, 404, 409, 415])
    func clientErrorsAreNotRetried(status: Int) {
        var state = FivetranRetryPolicy.State()
        #expect(
            policy.next(after: .status(status, retryAfter: nil), state: &state, idempotent: true, now: now, deadline: nil)
                == .fail)
    }

    @Test func retryAfterIsWholeSeconds() {
        #expect(FivetranRetryPolicy.parseRetryAfter("30") == .seconds(30))
        #expect(FivetranRetryPolicy.parseRetryAfter(" 2 ") == .seconds(2))
        #expect(FivetranRetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
        #expect(FivetranRetryPolicy.parseRetryAfter(nil) == nil)
    }
}
