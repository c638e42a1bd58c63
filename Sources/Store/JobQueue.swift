import Foundation
import Model

/// The queue of capture jobs, shared by every runner (threads of one process, or processes on
/// one database) and by the pages that start, watch and cancel jobs.
///
/// Every move of a job is decided by `JobLife` and applied by the backend in one transaction
/// that also checks the row is still as it was read, which is what lets several runners share
/// a queue without ever running one job twice: a claim hands out a fresh lease token; only
/// that token's holder may renew the lease, save progress, hand the job back or end it; a lease
/// that lapsed can be claimed again. A capture has at most one queued or running job. The
/// contract suite (`Tests/StoreTests/Contract/`) checks every implementation.
public protocol JobQueue: Sendable {
    /// Queues a job for a capture, unless it already has a queued or running one (answered
    /// instead). The check, the insert and the audit's `job.started` entry (by `requestedBy`)
    /// are one transaction; a job already active writes no entry.
    func enqueueJob(
        captureID: Int64, requestedBy: String?, bindings: [BindingProgress], at now: Date
    ) throws(StoreError) -> EnqueueResult

    /// Claims the oldest job that is queued or whose lease lapsed, with `token` until
    /// `now + leaseFor`. Jobs found on the way whose runner died with a cancel pending end
    /// cancelled, and those whose runners vanished mid-run `maxAttempts` times end failed
    /// (`JobLife.claim`). nil when nothing is claimable.
    ///
    /// Company lease: a job whose capture's Front company (`frontCompany`) is leased by another
    /// `runner` is skipped; claiming one takes (or renews) that company's lease for `runner`
    /// in the same transaction, so one runner at a time spends a company's rate budget.
    func claimJob(
        token: String, runner: String, leaseFor: Duration, maxAttempts: Int, at now: Date
    ) throws(StoreError) -> JobRecord?

    /// After `/me` named the job's company: records it on the capture and takes the company's
    /// lease for the job's runner (free, expired, or already that runner's). False when another
    /// runner holds it: the caller hands the job back, and only that runner will claim it.
    func takeCompanyLease(
        jobID: Int64, token: String, company: String, leaseFor: Duration, at now: Date
    ) throws(StoreError) -> Bool

    /// The scheduler's step: for every capture whose schedule is active, whose run is due
    /// (`nextRunAt <= now`, or unset with no job of its own) and that has no queued or running
    /// job, queues a job and clears `nextRunAt`, all in one transaction, so any number of
    /// runners (threads, processes, hosts) start each due run exactly once. When a job ends, the
    /// same transaction sets its capture's next due time (`CaptureSchedule.nextRun`). Each run
    /// queued has its `job.started` entry, by `schedule`, in the same transaction.
    func enqueueDueRuns(at now: Date, limit: Int) throws(StoreError) -> [JobRecord]

    /// At start-up: runs due since before `now − grace` (missed while nothing was running)
    /// collapse into one run each, soon after `now`, spread by `CaptureSchedule.catchUp`.
    /// Answers how many moved.
    @discardableResult
    func catchUpMissedRuns(at now: Date, grace: Double, spread: Double) throws(StoreError) -> Int

    /// The holder renews its lease and saves progress (unless nil); answers whether to go on.
    func heartbeat(
        jobID: Int64, token: String, leaseFor: Duration, bindings: [BindingProgress]?, at now: Date
    ) throws(StoreError) -> HeartbeatAnswer

    /// The holder ends the job. False when it no longer held it (nothing was written).
    @discardableResult
    func finishJob(
        jobID: Int64, token: String, outcome: JobOutcome, bindings: [BindingProgress]?, at now: Date
    ) throws(StoreError) -> Bool

    /// The holder hands the job back unfinished (graceful stop): queued again for any runner to
    /// resume at once, and not counted against the attempt limit. False when it no longer held it.
    @discardableResult
    func releaseJob(jobID: Int64, token: String, bindings: [BindingProgress]?) throws(StoreError) -> Bool

    /// Retention: deletes the capture's ended jobs (succeeded, failed, cancelled) older than its
    /// `keeping` newest ended ones, in one transaction. A queued or running job is never deleted,
    /// nor counted among the kept. Answers how many were deleted.
    @discardableResult
    func removeOldJobs(captureID: Int64, keeping: Int) throws(StoreError) -> Int

    /// Asks a job to stop (`JobLife.requestCancel`). nil when there is no such job. A cancel
    /// that changed something has its `job.cancelled` entry by `actor` in the same transaction;
    /// one of a job that had already ended writes none.
    func requestCancel(
        jobID: Int64, by actor: String?, at now: Date
    ) throws(StoreError) -> (JobRecord, JobLife.CancelResult)?

    func job(id: Int64) throws(StoreError) -> JobRecord?

    /// Jobs, newest first.
    func jobs(_ filter: JobFilter) throws(StoreError) -> [JobRecord]

    /// The newest job of every capture that has one, by capture id.
    func latestJobs() throws(StoreError) -> [Int64: JobRecord]

    /// How many jobs are in each state (every state present, zeros included).
    func jobCounts() throws(StoreError) -> [JobState: Int]
}

// Now, and no attempt limit, unless said otherwise: the forms the runner and the pages call.
extension JobQueue {
    public func enqueueJob(
        captureID: Int64, requestedBy: String?, bindings: [BindingProgress]
    ) throws(StoreError) -> EnqueueResult {
        try enqueueJob(captureID: captureID, requestedBy: requestedBy, bindings: bindings, at: Date())
    }

    public func claimJob(
        token: String, runner: String = "", leaseFor: Duration, maxAttempts: Int = .max
    ) throws(StoreError) -> JobRecord? {
        try claimJob(token: token, runner: runner, leaseFor: leaseFor, maxAttempts: maxAttempts, at: Date())
    }

    public func claimJob(token: String, leaseFor: Duration, maxAttempts: Int, at now: Date) throws(StoreError) -> JobRecord? {
        try claimJob(token: token, runner: "", leaseFor: leaseFor, maxAttempts: maxAttempts, at: now)
    }

    public func claimJob(token: String, runner: String = "", leaseFor: Duration, at now: Date) throws(StoreError) -> JobRecord? {
        try claimJob(token: token, runner: runner, leaseFor: leaseFor, maxAttempts: .max, at: now)
    }

    public func heartbeat(
        jobID: Int64, token: String, leaseFor: Duration, bindings: [BindingProgress]?
    ) throws(StoreError) -> HeartbeatAnswer {
        try heartbeat(jobID: jobID, token: token, leaseFor: leaseFor, bindings: bindings, at: Date())
    }

    @discardableResult
    public func finishJob(
        jobID: Int64, token: String, outcome: JobOutcome, bindings: [BindingProgress]?
    ) throws(StoreError) -> Bool {
        try finishJob(jobID: jobID, token: token, outcome: outcome, bindings: bindings, at: Date())
    }

    public func requestCancel(jobID: Int64, by actor: String? = nil) throws(StoreError) -> (JobRecord, JobLife.CancelResult)? {
        try requestCancel(jobID: jobID, by: actor, at: Date())
    }

    public func requestCancel(jobID: Int64, at now: Date) throws(StoreError) -> (JobRecord, JobLife.CancelResult)? {
        try requestCancel(jobID: jobID, by: nil, at: now)
    }

    public func jobs() throws(StoreError) -> [JobRecord] {
        try jobs(JobFilter())
    }
}

/// What `enqueueJob` did.
/// Who a job the scheduler queued says started it (its `requestedBy`), whichever backend queued it.
public let scheduledJobRequester = "schedule"

extension Duration {
    /// The duration in seconds, for times kept as epoch seconds.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

public enum EnqueueResult: Sendable, Equatable {
    case queued(JobRecord)
    /// The capture already has a queued or running job; no duplicate was made.
    case alreadyActive(JobRecord)
}

/// What the lease holder learns from a heartbeat.
public enum HeartbeatAnswer: Sendable, Equatable {
    case keepGoing
    case cancelRequested
    /// Another runner holds the job now (or it ended): stop without writing anything more.
    case lost
}

/// Which jobs to list.
public struct JobFilter: Sendable, Equatable {
    public var captureID: Int64?
    public var states: [JobState]
    public var limit: Int
    public var offset: Int

    public init(captureID: Int64? = nil, states: [JobState] = [], limit: Int = 50, offset: Int = 0) {
        self.captureID = captureID
        self.states = states
        self.limit = limit
        self.offset = offset
    }
}
