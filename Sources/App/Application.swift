import FastCGI
import Foundation
import Jobs
import Logging
import Store
import Web

/// The product wired together: configuration, templates, routes, and the FastCGI worker.
public struct Application: Sendable {
    public let site: Site
    public let dispatcher: Dispatcher
    let started = ContinuousClock.now
    /// The SQLite store of captures, jobs and collections, and the runner of jobs (nil with `--no-jobs`).
    public let store: SQLiteStore
    public let runner: JobRunner?
    let metrics: WorkerMetrics

    public init(configuration: Configuration, logger: Logger) throws {
        try configuration.check()
        let templates = try Templates(directory: configuration.templatesDirectory)
        let site = Site(templates: templates, configuration: configuration, logger: logger)
        let secret = try SecretKey.loadOrCreate(at: configuration.secretKeyFile)
        let store = try configuration.openStore()
        let directory = ConnectorDirectory(
            settings: configuration.fivetran, publicURL: configuration.publicURL, store: store, logger: logger,
            liveCallLimit: configuration.fivetranLiveCalls)
        let rendered = RenderedPages()
        var router = Router()
        let started = ContinuousClock.now
        HomeRoutes(site: site, started: started).register(in: &router)
        ConnectorRoutes(site: site, directory: directory, rendered: rendered).register(in: &router)
        ServiceRoutes(site: site, directory: directory, rendered: rendered).register(in: &router)
        SampleRoutes(directory: directory).register(in: &router)
        let metrics = WorkerMetrics(workerRestarts: configuration.workerRestarts)
        self.metrics = metrics
        let captures = CaptureContext(
            site: site, store: store, box: SecretBox(secret: secret), metrics: metrics,
            exports: ThreadBudget(
                limit: configuration.concurrentExports,
                refusal: HTTPError(
                    status: 503, title: "Other downloads are running",
                    message: "\(configuration.concurrentExports) downloads are being written right now. "
                        + "Try again in a few seconds (curl: --retry 20).",
                    headers: ["Retry-After": "2"])))
        CaptureRoutes(context: captures).register(in: &router)
        JobRoutes(context: captures).register(in: &router)
        CollectionRoutes(context: captures).register(in: &router)
        APIRoutes(context: captures).register(in: &router)
        SettingsRoutes(context: captures).register(in: &router)
        self.store = store
        self.runner = configuration.runJobs ? captures.makeRunner(logger: logger) : nil
        self.site = site
        self.dispatcher = Dispatcher(
            router: router, csrf: CSRF(secret: secret, secure: configuration.publicURL.lowercased().hasPrefix("https://")),
            logger: logger, publicURL: configuration.publicURL, errorPage: site.errorPage)
    }

    /// Answers one FastCGI request (the worker threads call this).
    public func handle(_ request: FastCGIRequest) -> FastCGIResponse {
        metrics.requestServed()
        let response = dispatcher.respond(cgi: request.params, body: request.body, bodyTooLarge: request.bodyTooLarge)
        let body: FastCGIResponse.Body =
            switch response.body {
            case .bytes(let bytes): .bytes(bytes)
            case .stream(let produce): .stream(produce)
            }
        return FastCGIResponse(status: response.status, headers: response.headers, body: body)
    }

    /// Runs the worker until SIGTERM or SIGINT, then drains.
    public func serve(_ configuration: FastCGIServer.Configuration, logger: Logger) throws {
        let server = FastCGIServer(configuration: configuration, logger: logger) { [self] request in
            handle(request)
        }
        runner?.start()
        defer { runner?.stopBlocking() }  // after the drain: running jobs stop and are handed back
        try server.run()
    }
}
