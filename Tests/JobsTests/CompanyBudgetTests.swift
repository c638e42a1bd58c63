import Foundation
import Front
import Jobs
import Logging
import Model
import Sandbox
import Store
import SwitchboardTesting
import Testing

/// Jobs of Front captures run by one `JobRunner` against the Front stand-in at a low limit: the
/// jobs of one company share its one budget, those of different companies run side by side.
/// Counts come from the stand-in's stats and the limiters' own state; no timing thresholds.
@Suite("One budget per Front company", .serialized)
struct CompanyBudgetTests {
    static let token = "front-sandbox-token"
    static let otherToken = "other-company-token"
    /// 20 requests per 2 s window (10 a second): a capture here takes a few seconds, paced.
    static let limit = 20

    @Test("two captures of one company at once: no 429, and together within the company's limit")
    func twoCapturesOfOneCompanyShareItsBudget() async throws {
        let bench = try await RunnerBench.start(limit: Self.limit)
        defer { Task { await bench.stop() } }
        let first = try bench.capture("First", prefix: "first", token: Self.token)
        let second = try bench.capture("Second", prefix: "second", token: Self.token)

        let run = try await bench.run([first, second])

        #expect(run.jobs.map(\.life.state) == [.succeeded, .succeeded], "\(run.jobs.map(\.life.error))")
        let stats = bench.sandbox.stats()
        #expect(stats["429"] == 0, "\(stats)")
        #expect(stats["cmp_sandbox 429"] == 0, "\(stats)")
        // Every request was the company's, each job's lists plus its one /me.
        let requests = run.jobs.map(\.requests).reduce(0, +)
        #expect(stats["cmp_sandbox total"] == requests + 2, "\(stats)")
        #expect(stats["GET /me"] == 2)
        // Enough to need several windows, so sharing was put to the test.
        #expect(requests > 2 * Self.limit, "\(stats)")
    }

    @Test("captures of two companies run in parallel, each on its own company's whole budget")
    func twoCompaniesRunSideBySide() async throws {
        let both = try await RunnerBench.start(limit: Self.limit, companies: [Self.otherToken: "cmp_other"])
        defer { Task { await both.stop() } }
        let mine = try both.capture("Mine", prefix: "mine", token: Self.token)
        let theirs = try both.capture("Theirs", prefix: "theirs", token: Self.otherToken)
        let budgets = FrontBudgets()
        let pair = try await both.run([mine, theirs], budgets: budgets)

        #expect(pair.jobs.map(\.life.state) == [.succeeded, .succeeded], "\(pair.jobs.map(\.life.error))")
        let stats = both.sandbox.stats()
        #expect(stats["429"] == 0, "\(stats)")
        #expect(stats["cmp_sandbox total"] == pair.jobs[0].requests + 1, "\(stats)")
        #expect(stats["cmp_other total"] == pair.jobs[1].requests + 1, "\(stats)")
        #expect(pair.jobs.allSatisfy { $0.requests > 2 * Self.limit }, "too small to be paced by the limit")
        // Side by side: each started before the other ended.
        let (a, b) = (pair.jobs[0].life, pair.jobs[1].life)
        #expect(try #require(a.startedAt) < #require(b.finishedAt) && #require(b.startedAt) < #require(a.finishedAt))
        // Each on a limiter of its own, paced to its company's whole plan and window as Front's
        // headers told them (not to a share of one), which is what "its own speed" is.
        let ours = budgets.limiter(company: "cmp_sandbox")
        let other = budgets.limiter(company: "cmp_other")
        #expect(ours !== other)
        for limiter in [ours, other] {
            let state = await limiter.snapshot
            #expect(state.limit == Self.limit)
            #expect(state.window == 2)
        }
    }

    @Test("a token Front refuses fails the job in words, after its one /me")
    func aRefusedTokenFailsTheJobInWords() async throws {
        let bench = try await RunnerBench.start(limit: 1000)
        defer { Task { await bench.stop() } }
        let capture = try bench.capture("Refused", prefix: "refused", token: "revoked-token-5e1f")

        let run = try await bench.run([capture])

        let job = try #require(run.jobs.first)
        #expect(job.life.state == .failed)
        let error = job.life.error ?? ""
        #expect(error.contains("refused the token") && error.contains("wrong, expired or revoked"), "\(error)")
        #expect(!error.contains("revoked-token-5e1f"))
        #expect(bench.sandbox.stats()["total"] == 1)
    }
}

/// One test's Front stand-in (two companies' tokens, a low limit over 2 s windows), store and
/// secret box, and a way to run jobs through a fresh `JobRunner` until they end.
final class RunnerBench: Sendable {
    let sandbox: FrontSandbox
    let store: SQLiteStore
    let box = SecretBox(secret: [UInt8](repeating: 3, count: 32))
    let folder: URL

    static func start(limit: Int, companies: [String: String] = [:]) async throws -> RunnerBench {
        var options = FrontSandbox.Options()
        options.conversations = 100
        options.eventsPerConversation = 5
        options.contacts = 230
        options.rateLimitPerMinute = limit
        options.minuteLength = 2
        options.companies = companies
        let sandbox = FrontSandbox(options: options)
        try await sandbox.start()
        let folder = try makeTemporaryFolder("sb-jobs")
        return RunnerBench(
            sandbox: sandbox, store: try SQLiteStore(path: folder.appendingPathComponent("jobs.sqlite").path), folder: folder)
    }

    private init(sandbox: FrontSandbox, store: SQLiteStore, folder: URL) {
        self.sandbox = sandbox
        self.store = store
        self.folder = folder
    }

    func stop() async {
        await sandbox.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// A saved capture from December 2024 (the stand-in's data is January 2025's) of every resource
    /// but conversations: their search backfill is paced by the search share, which the limiter
    /// holds to a real minute's pace until it has learnt the stand-in's 2 s window, and would
    /// make the runs' length depend on when that happens rather than on the company budget.
    func capture(_ name: String, prefix: String, token: String) throws -> Int64 {
        let record = try store.insertCapture(
            NewCapture(
                name: name, prefix: prefix, sealedToken: try box.seal(token), tokenHint: String(token.suffix(4)),
                startDate: Date(timeIntervalSince1970: 1_733_011_200),
                resources: ["channels", "contacts", "events", "inboxes", "tags", "teammates", "teams"]))
        return record.id
    }

    struct Run {
        /// In the order of the captures given.
        var jobs: [JobRecord]
        /// Seconds from the first job's start to the last one's end, as the store recorded them.
        var wall: Double
    }

    /// Queues a job for each capture and runs one runner (one slot per job) until all have ended.
    func run(_ captures: [Int64], budgets: FrontBudgets? = nil) async throws -> Run {
        var ids: [Int64] = []
        for capture in captures {
            guard case .queued(let job) = try store.enqueueJob(captureID: capture, requestedBy: nil, bindings: []) else {
                throw TestFailure("capture \(capture) already had a job")
            }
            ids.append(job.id)
        }
        let runner = JobRunner(
            store: store, box: box,
            options: JobRunner.Options(
                concurrency: captures.count, heartbeat: .milliseconds(200), poll: .milliseconds(20),
                frontBaseURL: try #require(sandbox.baseURL)),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), budgets: budgets)
        let running = Task { await runner.run() }
        defer { running.cancel() }
        try await waitUntil("the jobs end", timeout: 180) {
            ids.allSatisfy { (try? store.job(id: $0))?.life.state.isFinal == true }
        }
        running.cancel()
        await running.value
        let jobs = try ids.map { id in try #require(try store.job(id: id)) }
        let started = jobs.compactMap(\.life.startedAt).min() ?? Date()
        let finished = jobs.compactMap(\.life.finishedAt).max() ?? Date()
        return Run(jobs: jobs, wall: finished.timeIntervalSince(started))
    }
}
