import Foundation
import Model
import Testing

/// The job's life as a value: every transition and the lease rules, no clock, no database.
@Suite("A job's life")
struct JobLifeTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    let lease = Duration.seconds(10)

    @Test("queued → running → succeeded, with timestamps")
    func happyPath() throws {
        var life = JobLife(createdAt: t0)
        #expect(life.state == .queued && life.isClaimable(at: t0))
        #expect(try life.claim(token: "a", now: t0 + 1, leaseFor: lease) == .claimed)
        #expect(life.state == .running && life.startedAt == t0 + 1 && life.attempts == 1)
        #expect(life.lease == JobLease(token: "a", expiresAt: t0 + 11))
        try life.finish(.succeeded, token: "a", now: t0 + 5)
        #expect(life.state == .succeeded && life.finishedAt == t0 + 5 && life.lease == nil)
        #expect(!life.isClaimable(at: t0 + 100))
    }

    @Test("a failure keeps its reason")
    func failure() throws {
        var life = JobLife(createdAt: t0)
        _ = try life.claim(token: "a", now: t0, leaseFor: lease)
        try life.finish(.failed("Front refused the token"), token: "a", now: t0 + 2)
        #expect(life.state == .failed && life.error == "Front refused the token")
    }

    @Test("a running job with a live lease cannot be claimed; once it lapses another runner takes it")
    func leaseExpiry() throws {
        var life = JobLife(createdAt: t0)
        _ = try life.claim(token: "a", now: t0, leaseFor: lease)
        #expect(!life.isClaimable(at: t0 + 9))
        #expect(throws: JobTransitionError.notClaimable(.running)) { try life.claim(token: "b", now: t0 + 9, leaseFor: lease) }
        #expect(life.isClaimable(at: t0 + 10))
        #expect(try life.claim(token: "b", now: t0 + 10, leaseFor: lease) == .claimed)
        #expect(life.attempts == 2 && life.startedAt == t0)  // resumed, not restarted
        // The first runner lost it: it can neither renew nor finish.
        #expect(throws: JobTransitionError.leaseLost) { try life.heartbeat(token: "a", now: t0 + 11, leaseFor: lease) }
        #expect(throws: JobTransitionError.leaseLost) { try life.finish(.succeeded, token: "a", now: t0 + 11) }
        try life.finish(.succeeded, token: "b", now: t0 + 12)
        #expect(life.state == .succeeded)
    }

    @Test("a heartbeat renews the lease and reports a pending cancel")
    func heartbeat() throws {
        var life = JobLife(createdAt: t0)
        _ = try life.claim(token: "a", now: t0, leaseFor: lease)
        #expect(try life.heartbeat(token: "a", now: t0 + 8, leaseFor: lease) == false)
        #expect(!life.isClaimable(at: t0 + 17))
        #expect(life.requestCancel(now: t0 + 9) == .requested)
        #expect(life.state == .running)
        #expect(try life.heartbeat(token: "a", now: t0 + 9, leaseFor: lease) == true)
        try life.finish(.cancelled, token: "a", now: t0 + 10)
        #expect(life.state == .cancelled)
    }

    @Test("cancelling a queued job ends it at once; cancelling an ended one changes nothing")
    func cancelQueued() {
        var life = JobLife(createdAt: t0)
        #expect(life.requestCancel(now: t0 + 1) == .cancelled)
        #expect(life.state == .cancelled && life.finishedAt == t0 + 1)
        #expect(life.requestCancel(now: t0 + 2) == .alreadyFinished(.cancelled))
        #expect(life.finishedAt == t0 + 1)
    }

    @Test("a dead runner's job with a cancel pending ends cancelled instead of being claimed")
    func cancelPendingAfterCrash() throws {
        var life = JobLife(createdAt: t0)
        _ = try life.claim(token: "a", now: t0, leaseFor: lease)
        _ = life.requestCancel(now: t0 + 1)
        #expect(try life.claim(token: "b", now: t0 + 20, leaseFor: lease) == .cancelledInstead)
        #expect(life.state == .cancelled)
    }

    @Test("released on a graceful stop, a job is queued again and claimable at once")
    func release() throws {
        var life = JobLife(createdAt: t0)
        _ = try life.claim(token: "a", now: t0, leaseFor: lease)
        #expect(throws: JobTransitionError.leaseLost) { try life.release(token: "x") }
        try life.release(token: "a")
        #expect(life.state == .queued && life.lease == nil && life.isClaimable(at: t0 + 1))
    }

    @Test("an ended job refuses every further move")
    func finalIsFinal() throws {
        var life = JobLife(createdAt: t0)
        _ = try life.claim(token: "a", now: t0, leaseFor: lease)
        try life.finish(.succeeded, token: "a", now: t0 + 1)
        #expect(throws: JobTransitionError.alreadyFinished(.succeeded)) { try life.finish(.failed("x"), token: "a", now: t0 + 2) }
        #expect(throws: JobTransitionError.alreadyFinished(.succeeded)) {
            try life.claim(token: "b", now: t0 + 99, leaseFor: lease)
        }
    }

    @Test("a job whose runner vanishes mid-run three times ends failed with a message; hand-backs do not count")
    func crashLoopsEnd() throws {
        var life = JobLife(createdAt: t0)
        var now = t0
        // A graceful stop (reload) hands the job back: it does not count as a failed attempt.
        _ = try life.claim(token: "r0", now: now, leaseFor: lease, maxAttempts: 3)
        try life.release(token: "r0")
        for attempt in 1...3 {
            #expect(try life.claim(token: "c\(attempt)", now: now, leaseFor: lease, maxAttempts: 3) == .claimed)
            now += 11  // the runner died: its lease lapses
        }
        #expect(try life.claim(token: "c4", now: now, leaseFor: lease, maxAttempts: 3) == .gaveUp)
        #expect(life.state == .failed)
        #expect(life.error?.contains("Gave up after 4 attempts") == true)
        #expect(!life.isClaimable(at: now + 100))
    }
}
