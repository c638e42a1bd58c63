import Foundation

/// Where a job stands: queued → running → succeeded | failed | cancelled.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, cancelled

    /// Succeeded, failed or cancelled: nothing moves it again.
    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// A runner's hold on a running job: the token it claimed it with and when the hold lapses
/// unless renewed by a heartbeat.
public struct JobLease: Sendable, Equatable {
    public var token: String
    public var expiresAt: Date

    public init(token: String, expiresAt: Date) {
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// How a runner says a job ended.
public enum JobOutcome: Sendable, Equatable {
    case succeeded
    case failed(String)
    case cancelled
}

/// A transition the rules refuse, in words (these are bugs or lost races, never user input).
public enum JobTransitionError: Error, Sendable, Equatable, CustomStringConvertible {
    case notClaimable(JobState)
    case leaseLost
    case alreadyFinished(JobState)

    public var description: String {
        switch self {
        case .notClaimable(let state): "the job is \(state.rawValue) and its lease has not expired, so it cannot be claimed"
        case .leaseLost: "another runner holds this job's lease now (ours expired)"
        case .alreadyFinished(let state): "the job already ended (\(state.rawValue))"
        }
    }
}

/// A job's life as a value: every transition and the lease rules in one place, with no clock,
/// no database and no I/O. The store loads it, asks it, and writes back what it answers, all in
/// one transaction, so two runners (or two processes) can never both move the same job.
///
/// Lease rules: a runner claims a job that is queued, or running with a lease that has expired
/// (its runner died); the claim hands out a fresh token. Only the holder of the current token
/// may renew the lease, report progress or end the job. A cancel asked of a queued job ends it
/// at once; of a running one it sets a flag the holder reads at its next heartbeat. A running
/// job whose lease expired with a cancel pending is simply cancelled instead of claimed.
public struct JobLife: Sendable, Equatable {
    public private(set) var state: JobState
    public private(set) var createdAt: Date
    public private(set) var startedAt: Date?
    public private(set) var finishedAt: Date?
    public private(set) var lease: JobLease?
    public private(set) var cancelRequested: Bool
    /// How many times a runner claimed it (more than one after a crash or a restart).
    public private(set) var attempts: Int
    /// How many of those claims ended in a graceful hand-back (a stopping runner), which do not
    /// count against the attempt limit: only runs whose runner vanished do.
    public private(set) var handBacks: Int
    public private(set) var error: String?

    public init(createdAt: Date) {
        self.init(
            state: .queued, createdAt: createdAt, startedAt: nil, finishedAt: nil, lease: nil, cancelRequested: false,
            attempts: 0, handBacks: 0, error: nil)
    }

    /// As stored; the store rebuilds values with this.
    public init(
        state: JobState, createdAt: Date, startedAt: Date?, finishedAt: Date?, lease: JobLease?, cancelRequested: Bool,
        attempts: Int, handBacks: Int = 0, error: String?
    ) {
        self.state = state
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.lease = lease
        self.cancelRequested = cancelRequested
        self.attempts = attempts
        self.handBacks = handBacks
        self.error = error
    }

    /// Queued or running: it still occupies its capture.
    public var isActive: Bool { !state.isFinal }

    /// Whether the lease lapsed (a running job whose runner stopped renewing it).
    public func leaseExpired(at now: Date) -> Bool {
        guard state == .running else { return false }
        guard let lease else { return true }
        return lease.expiresAt <= now
    }

    /// Whether a runner may claim it now.
    public func isClaimable(at now: Date) -> Bool {
        switch state {
        case .queued: true
        case .running: leaseExpired(at: now)
        default: false
        }
    }

    /// What a runner finds when it looks at a claimable job.
    public enum ClaimResult: Sendable, Equatable {
        /// It is the runner's now; run (or resume) it.
        case claimed
        /// Its runner died with a cancel pending: it ended as cancelled instead.
        case cancelledInstead
        /// Its runners vanished mid-run `maxAttempts` times (a crash loop): it ended failed.
        case gaveUp
    }

    /// Runs of this job that began and never ended: neither finished nor handed back.
    public var abandonedRuns: Int { max(0, attempts - handBacks) }

    /// Takes the job with a fresh lease `token` until `now + leaseFor`, unless its runners already
    /// vanished mid-run `maxAttempts` times: then it ends failed, so a job that kills its worker
    /// is not claimed again after every restart.
    public mutating func claim(
        token: String, now: Date, leaseFor: Duration, maxAttempts: Int = .max
    ) throws(JobTransitionError) -> ClaimResult {
        guard isClaimable(at: now) else {
            throw state.isFinal ? .alreadyFinished(state) : .notClaimable(state)
        }
        if cancelRequested {
            end(.cancelled, now: now)
            return .cancelledInstead
        }
        if abandonedRuns >= maxAttempts {
            let last = error.map { " Last error: \($0)" } ?? ""
            end(
                .failed(
                    "Gave up after \(attempts == 1 ? "1 attempt" : "\(attempts) attempts"): each time the runner stopped before the job ended "
                        + "(it crashed or was killed; see the worker's log for job lines).\(last)"),
                now: now)
            return .gaveUp
        }
        state = .running
        if startedAt == nil { startedAt = now }
        lease = JobLease(token: token, expiresAt: now + leaseFor.timeInterval)
        attempts += 1
        return .claimed
    }

    /// The holder renews its lease. Answers whether a cancel was asked, so the holder stops.
    public mutating func heartbeat(token: String, now: Date, leaseFor: Duration) throws(JobTransitionError) -> Bool {
        try checkHolder(token)
        lease = JobLease(token: token, expiresAt: now + leaseFor.timeInterval)
        return cancelRequested
    }

    /// The holder ends the job.
    public mutating func finish(_ outcome: JobOutcome, token: String, now: Date) throws(JobTransitionError) {
        try checkHolder(token)
        end(outcome, now: now)
    }

    /// The holder gives the job back unfinished (a graceful stop): queued again, so any runner
    /// resumes it from its checkpoints without waiting for the lease to lapse.
    public mutating func release(token: String) throws(JobTransitionError) {
        try checkHolder(token)
        if cancelRequested {
            end(.cancelled, now: lease?.expiresAt ?? createdAt)
            return
        }
        state = .queued
        lease = nil
        handBacks += 1
    }

    /// What asking to cancel did.
    public enum CancelResult: Sendable, Equatable {
        /// It was queued: it is cancelled now.
        case cancelled
        /// It is running: its runner stops at its next heartbeat.
        case requested
        /// It had already ended; nothing changed.
        case alreadyFinished(JobState)
    }

    public mutating func requestCancel(now: Date) -> CancelResult {
        switch state {
        case .queued:
            end(.cancelled, now: now)
            return .cancelled
        case .running:
            cancelRequested = true
            return .requested
        case .succeeded, .failed, .cancelled:
            return .alreadyFinished(state)
        }
    }

    private func checkHolder(_ token: String) throws(JobTransitionError) {
        if state.isFinal { throw .alreadyFinished(state) }
        guard state == .running, lease?.token == token else { throw .leaseLost }
    }

    private mutating func end(_ outcome: JobOutcome, now: Date) {
        switch outcome {
        case .succeeded:
            state = .succeeded
        case .failed(let why):
            state = .failed
            error = why
        case .cancelled:
            state = .cancelled
        }
        finishedAt = now
        lease = nil
    }
}

extension Duration {
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
