import Capture
import FastCGI
import Foundation
import Front
import Jobs
import Logging
import Model
import ServiceLifecycle
import Store
import Transport
import UnixSignals

/// Everything the subcommands run on, made once from the configuration: the store, the secret
/// key and the box it seals Front tokens with, the Fivetran directory, the Front rate budgets,
/// the job runner and the metrics. `serve`, `jobs`, `capture`, `export` and `token` all start
/// here, so each piece is built in one place and reads its settings from `Configuration` only.
public struct Services: Sendable {
    public let configuration: Configuration
    public let logger: Logger
    public let store: any SwitchboardStore
    /// Signs CSRF tokens and (through `box`) seals stored Front tokens.
    let secret: [UInt8]
    let box: SecretBox
    let directory: ConnectorDirectory
    /// One rate budget per Front company, shared by every run in this process.
    public let frontBudgets: FrontBudgets
    public let runner: JobRunner
    let metrics: WorkerMetrics
    /// How the API clients reach Fivetran and Front.
    let transport: any HTTPTransport
    let started = ContinuousClock.now

    /// `transport`: how the API clients reach Fivetran and Front (URLSession, or a test's own).
    public init(
        configuration: Configuration, logger: Logger, transport: any HTTPTransport = URLSessionTransport()
    ) throws {
        try configuration.check()
        self.configuration = configuration
        self.logger = logger
        let store = try Self.openStore(configuration)
        self.store = store
        let secret = try SecretKey.loadOrCreate(at: configuration.secretKeyFile)
        self.secret = secret
        self.box = SecretBox(secret: secret)
        self.directory = ConnectorDirectory(
            settings: configuration.fivetran, publicURL: configuration.publicURL, names: store, audit: store, logger: logger,
            liveCallLimit: configuration.fivetranLiveCalls, transport: transport)
        let budgets = FrontBudgets()
        self.frontBudgets = budgets
        self.runner = JobRunner(
            store: store, box: box, options: configuration.jobRunnerOptions, logger: logger, transport: transport,
            budgets: budgets)
        self.metrics = WorkerMetrics(workerRestarts: configuration.workerRestarts)
        self.transport = transport
    }

    /// An engine for one capture run from the command line (`switchboard capture`), on the
    /// same Front settings and budgets as the runner's: `/me` first, so that the configs of one
    /// company run on one budget. A token Front refuses fails here, before any list is read.
    public func captureEngine(for config: CaptureConfig) async throws(FrontError) -> (
        engine: CaptureEngine, connection: FrontConnection
    ) {
        let connection = try await frontBudgets.connect(
            token: config.token, baseURL: configuration.frontBaseURL, transport: transport)
        return (CaptureEngine(config: config, store: store, client: connection.client), connection)
    }

    /// The store alone, for the commands that only read or write it (`export`, `token`): the
    /// same database, opened the same way, without making a secret key as a side effect.
    public static func openStore(_ configuration: Configuration) throws -> any SwitchboardStore {
        try configuration.openStore()
    }

    /// `switchboard serve`: the FastCGI server, the job runner (unless `--no-jobs`) and the
    /// Fivetran refresher, as services of one group that owns SIGTERM/SIGINT: on either, the
    /// server stops accepting and drains, then running jobs are handed back, then the refresher
    /// stops (a group shuts its services down last first).
    public func serve(_ server: FastCGIServer.Configuration) async throws {
        let application = try Application(services: self)
        var services: [any Service] = [auditRetention]
        if configuration.runJobs { services.append(JobRunnerService(runner: runner)) }
        services.append(FivetranRefresher(directory: directory, logger: logger))
        services.append(
            FastCGIServer(configuration: server, logger: logger) { request in await application.respond(request) })
        try await run(services)
    }

    /// `switchboard jobs`: the job runner alone, until SIGTERM or SIGINT.
    public func runJobs() async throws {
        try await run([auditRetention, JobRunnerService(runner: runner)])
    }

    /// The audit's retention (`SWITCHBOARD_AUDIT_DAYS`), for `serve` and `jobs`.
    var auditRetention: AuditRetention {
        AuditRetention(store: store, days: configuration.auditDays, logger: logger)
    }

    /// Runs `services` until they end or a stop signal, then shuts them down gracefully.
    public func run(_ services: [any Service]) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map {
                    .init(
                        service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// The job runner as a service: it claims jobs until the group shuts down, then stops the
/// running ones between pages and hands them back (any runner resumes them from checkpoints).
struct JobRunnerService: Service {
    let runner: JobRunner

    func run() async throws {
        await cancelWhenGracefulShutdown { await runner.run() }
    }
}

/// The audit's retention: entries older than `days` are removed at start-up and then once a
/// day; nothing else in the app ever deletes one. Every process that runs it removes the same
/// rows, so several doing so at once is harmless.
struct AuditRetention: Service {
    let store: any AuditStore
    let days: Int
    let logger: Logger
    var interval: Duration = .seconds(86_400)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                prune()
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }

    /// Removes what is older than `days` before `now`; answers how many went (0 on a failure,
    /// which is logged: the next day tries again).
    @discardableResult
    func prune(now: Date = Date()) -> Int {
        let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
        do {
            let removed = try store.removeAudit(olderThan: cutoff)
            if removed > 0 { logger.info("old audit entries removed", metadata: ["entries": "\(removed)", "days": "\(days)"]) }
            return removed
        } catch {
            logger.warning("cannot remove old audit entries: \(error)")
            return 0
        }
    }
}
