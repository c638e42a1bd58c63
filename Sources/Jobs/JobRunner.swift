import Capture
import Foundation
import Front
import Logging
import Metrics
import Model
import Store
import Synchronization
import Transport

/// Runs queued jobs: claims them from the store with a lease, runs each capture, renews the
/// lease with a heartbeat that also saves progress and hears cancel requests, and ends the job.
///
/// Everything that decides (may this job be claimed? is the lease still ours? what does a
/// cancel do?) is `JobLife`, applied by the store in one transaction; this type only executes.
/// Several runners (threads of one process, or processes on one SQLite file) never run one job
/// twice. A runner that dies leaves a lease that expires; another takes the job up and the
/// capture engine resumes from its checkpoints.
public final class JobRunner: Sendable {
    public struct Options: Sendable {
        /// Jobs run at once by this runner.
        public var concurrency: Int
        /// How long a claim holds without a heartbeat; a job whose runner died waits this long.
        public var lease: Duration
        /// How often a running job renews its lease, saves progress and checks for a cancel.
        public var heartbeat: Duration
        /// Runs of one job whose runner vanished (crash, kill) before it ends failed.
        public var maxAttempts: Int
        /// How often an idle slot looks for queued jobs.
        public var poll: Duration
        /// Front's API (`FRONT_BASE_URL`).
        public var frontBaseURL: URL
        /// Ended jobs kept per capture: after each job ends, its capture's older ended jobs are
        /// removed (`SWITCHBOARD_JOBS_KEPT`).
        public var jobsKept: Int
        /// Whether this runner also starts the runs schedules make due (every runner may: the
        /// store starts each due run once).
        public var schedules: Bool

        public init(
            concurrency: Int = 2, lease: Duration = .seconds(10), heartbeat: Duration = .milliseconds(500),
            maxAttempts: Int = 3, poll: Duration = .milliseconds(500), frontBaseURL: URL = CaptureEngine.defaultBaseURL,
            jobsKept: Int = 100, schedules: Bool = true
        ) {
            self.schedules = schedules
            self.jobsKept = max(1, jobsKept)
            self.concurrency = max(1, concurrency)
            self.lease = lease
            self.heartbeat = heartbeat
            self.maxAttempts = max(1, maxAttempts)
            self.poll = poll
            self.frontBaseURL = frontBaseURL
        }
    }

    public let options: Options
    /// Who holds this runner's leases (job and company): unique per runner, readable in the
    /// database by an operator.
    public let id: String
    /// The queue it claims from, the captures its jobs run, and the documents their engines
    /// write: the three concerns a runner touches, and no more (no tokens, no connector names).
    private let store: any JobQueue & CaptureStore & DocumentStore
    private let box: SecretBox
    private let logger: Logger
    private let transport: any HTTPTransport
    /// The Front rate budgets, one per company, shared with whatever else in this process calls
    /// Front: every job of one company runs on its company's one limiter.
    private let budgets: FrontBudgets
    private let active = Atomic<Int>(0)

    public init(
        store: any JobQueue & CaptureStore & DocumentStore, box: SecretBox, options: Options, logger: Logger,
        transport: any HTTPTransport = URLSessionTransport(), budgets: FrontBudgets? = nil
    ) {
        self.budgets = budgets ?? FrontBudgets()
        self.store = store
        self.box = box
        self.options = options
        self.logger = logger
        self.transport = transport
        self.id = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    }

    /// Jobs running in this runner right now.
    public var running: Int { active.load(ordering: .relaxed) }

    /// The claim loop, with the scheduler ticking before each look for jobs; returns once
    /// cancelled and every job it started has stopped.
    public func run() async {
        let scheduler = Scheduler(store: store, logger: logger)
        if options.schedules {
            // Due earlier than a few polls ago: nothing was running to start it.
            scheduler.catchUp(grace: 4 * options.poll.seconds + 1)
        }
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                if options.schedules { scheduler.tick() }
                while active.load(ordering: .sequentiallyConsistent) < options.concurrency, !Task.isCancelled {
                    let token = UUID().uuidString
                    let job: JobRecord?
                    do {
                        job = try store.claimJob(
                            token: token, runner: id, leaseFor: options.lease, maxAttempts: options.maxAttempts, at: Date())
                    } catch {
                        logger.error("cannot claim jobs: \(error)")
                        break
                    }
                    guard let job else { break }
                    active.add(1, ordering: .sequentiallyConsistent)
                    group.addTask { [self] in
                        await execute(job, token: token)
                        active.subtract(1, ordering: .sequentiallyConsistent)
                    }
                }
                do {
                    try await Task.sleep(for: options.poll)
                } catch {
                    break
                }
            }
        }
    }

    // MARK: One job

    private final class Flags: Sendable {
        let cancelRequested = Atomic<Bool>(false)
        let lost = Atomic<Bool>(false)
    }

    private func execute(_ job: JobRecord, token: String) async {
        var jobLogger = logger
        jobLogger[metadataKey: "job"] = "\(job.id)"
        jobLogger[metadataKey: "capture"] = "\(job.captureID)"
        jobLogger.info("job claimed", metadata: ["attempt": "\(job.life.attempts)"])

        let config: CaptureConfig
        do {
            config = try configuration(for: job)
        } catch {
            jobLogger.warning("job failed before starting: \(error.message)")
            _ = try? store.finishJob(jobID: job.id, token: token, outcome: .failed(error.message), bindings: nil)
            removeOldJobs(of: job.captureID, log: jobLogger)
            return
        }
        // `/me` first: the token's company picks the budget the run shares with every other run
        // of that company, and its headers pace the run's first request.
        let connection: FrontConnection
        do {
            connection = try await budgets.connect(token: config.token, baseURL: options.frontBaseURL, transport: transport)
        } catch .cancelled {
            // The runner is stopping: hand the job back to be resumed.
            _ = try? store.releaseJob(jobID: job.id, token: token, bindings: nil)
            jobLogger.info("job handed back before it started")
            return
        } catch {
            let message = "cannot start: \(error.description)"
            jobLogger.warning("job failed before starting: \(message)")
            _ = try? store.finishJob(jobID: job.id, token: token, outcome: .failed(message), bindings: nil)
            removeOldJobs(of: job.captureID, log: jobLogger)
            return
        }
        let company = connection.company
        jobLogger[metadataKey: "company"] = "\(company.id)"
        let log = jobLogger
        log.info("connected to Front", metadata: ["company_name": "\(company.name ?? "")", "requests": "\(connection.requests)"])
        // One runner at a time spends a company's budget: the capture learns its company, and
        // when another runner holds that company's lease, the job goes back for it to run.
        let leased: Bool
        do {
            leased = try store.takeCompanyLease(
                jobID: job.id, token: token, company: company.id, leaseFor: options.lease, at: Date())
        } catch {
            log.warning("cannot take the Front company's lease: \(error)")
            leased = false
        }
        guard leased else {
            _ = try? store.releaseJob(jobID: job.id, token: token, bindings: nil)
            log.info("job handed back: another runner is spending this Front company's budget and will run it")
            return
        }
        let engine = CaptureEngine(
            config: config, store: store, client: connection.client, fence: LeaseFence(jobID: job.id, token: token))
        let tally = Shared(ProgressTally(bindings: config.bindings, stored: job.bindings))
        let flags = Flags()
        let began = ContinuousClock.now
        let run = engine.start()

        let outcome: Result<CaptureSummary, CaptureError> = await withTaskCancellationHandler {
            let consumer = Task {
                for await progress in run.progress { tally.withLock { $0.record(progress) } }
            }
            let heartbeat = Task { [self] in
                var lastRenewed = ContinuousClock.now
                while true {
                    do { try await Task.sleep(for: options.heartbeat) } catch { return }
                    let answer: HeartbeatAnswer
                    do {
                        answer = try store.heartbeat(
                            jobID: job.id, token: token, leaseFor: options.lease, bindings: tally.withLock { $0.bindings })
                        lastRenewed = ContinuousClock.now
                    } catch {
                        // A busy or failing database: keep running while the lease lasts. Past
                        // it, another runner may have the job: stop, as if the lease was lost.
                        log.warning("heartbeat failed: \(error)")
                        if ContinuousClock.now - lastRenewed >= options.lease {
                            log.warning("no heartbeat for longer than the lease; stopping without writing")
                            flags.lost.store(true, ordering: .sequentiallyConsistent)
                            run.cancel()
                            return
                        }
                        continue
                    }
                    switch answer {
                    case .keepGoing:
                        continue
                    case .cancelRequested:
                        if !flags.cancelRequested.exchange(true, ordering: .sequentiallyConsistent) {
                            log.info("cancel requested; stopping between pages")
                            run.cancel()
                        }
                    case .lost:
                        log.warning("lease lost to another runner; stopping without writing")
                        flags.lost.store(true, ordering: .sequentiallyConsistent)
                        run.cancel()
                        return
                    }
                }
            }
            let result: Result<CaptureSummary, CaptureError>
            do throws(CaptureError) {
                result = .success(try await run.result())
            } catch {
                result = .failure(error)
            }
            heartbeat.cancel()
            await consumer.value  // the stream ends with the run: every last update is in
            await heartbeat.value
            return result
        } onCancel: {
            run.cancel()
        }

        let bindings = tally.withLock { $0.bindings }
        Self.measure(outcome, cancelRequested: flags.cancelRequested.load(ordering: .sequentiallyConsistent), since: began)
        if case .failure(.leaseLost) = outcome {
            log.warning("lease lost to another runner at a commit; stopped without writing")
            return
        }
        if flags.lost.load(ordering: .sequentiallyConsistent) { return }
        do {
            switch outcome {
            case .success(let summary):
                try store.finishJob(jobID: job.id, token: token, outcome: .succeeded, bindings: bindings)
                // The run's requests and the `/me` before it.
                log.info(
                    "job succeeded",
                    metadata: ["requests": "\(summary.requests + connection.requests)", "written": "\(summary.written)"])
            case .failure(let error):
                if flags.cancelRequested.load(ordering: .sequentiallyConsistent) {
                    try store.finishJob(jobID: job.id, token: token, outcome: .cancelled, bindings: bindings)
                    log.info("job cancelled")
                } else if case .cancelled = error {
                    // The runner is stopping: hand the job back to be resumed.
                    try store.releaseJob(jobID: job.id, token: token, bindings: bindings)
                    log.info("job handed back for another runner to resume")
                } else {
                    try store.finishJob(jobID: job.id, token: token, outcome: .failed(error.description), bindings: bindings)
                    log.warning("job failed: \(error.description)")
                }
            }
        } catch {
            log.error("cannot record the end of the job: \(error); its lease will expire and it will be resumed")
        }
        removeOldJobs(of: job.captureID, log: log)
    }

    /// Retention, once a job has ended: the capture keeps its `jobsKept` newest ended jobs (a
    /// queued or running one is never removed). A failure here costs only disk, so it is logged.
    private func removeOldJobs(of captureID: Int64, log: Logger) {
        do {
            let removed = try store.removeOldJobs(captureID: captureID, keeping: options.jobsKept)
            if removed > 0 { log.debug("removed old jobs", metadata: ["removed": "\(removed)", "kept": "\(options.jobsKept)"]) }
        } catch {
            log.warning("cannot remove the capture's old jobs: \(error)")
        }
    }

    /// Runs by how they ended (succeeded, failed, cancelled, handed back, lease lost) and how long
    /// each took: what an operator alerts on.
    private static func measure(
        _ outcome: Result<CaptureSummary, CaptureError>, cancelRequested: Bool, since start: ContinuousClock.Instant
    ) {
        let label: String
        switch outcome {
        case .success: label = "succeeded"
        case .failure(.leaseLost): label = "lease_lost"
        case .failure(.cancelled): label = cancelRequested ? "cancelled" : "handed_back"
        case .failure: label = cancelRequested ? "cancelled" : "failed"
        }
        Counter(label: "switchboard_job_runs_total", dimensions: [("outcome", label)]).increment()
        CoreMetrics.Timer(label: "switchboard_job_run_duration_seconds", dimensions: [("outcome", label)])
            .record(duration: ContinuousClock.now - start)
    }

    /// The capture's configuration with its token opened; a capture that cannot run is a
    /// failure in words.
    private func configuration(for job: JobRecord) throws(JobSetupError) -> CaptureConfig {
        let capture: CaptureRecord?
        do {
            capture = try store.capture(id: job.captureID)
        } catch {
            throw JobSetupError(message: error.description)
        }
        guard let capture else {
            throw JobSetupError(message: "capture \(job.captureID) no longer exists")
        }
        let secret: String
        do {
            secret = try box.open(capture.sealedToken)
        } catch {
            throw JobSetupError(message: error.description)
        }
        guard let token = FrontToken(secret) else {
            throw JobSetupError(message: "the capture has an empty Front token; create it again with a token")
        }
        let bindings = capture.resources.compactMap(FrontResource.init(rawValue:)).map {
            CaptureBinding(resource: $0, collection: capture.collection(for: $0.rawValue))
        }
        guard !bindings.isEmpty else { throw JobSetupError(message: "the capture has no resources to copy") }
        return CaptureConfig(token: token, startDate: capture.startDate ?? CaptureConfig.defaultStartDate, bindings: bindings)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// A value behind a lock, shareable between tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

struct JobSetupError: Error {
    let message: String
}
