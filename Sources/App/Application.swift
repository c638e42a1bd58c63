import FastCGI
import Foundation
import Logging
import Web

/// The product's responder: the templates, every feature's routes and the dispatcher, built
/// from `Services`. `respond` is the async function the FastCGI edge hands each request to;
/// the in-process tests call it the same way.
public struct Application: Sendable {
    public let site: Site
    public let dispatcher: Dispatcher
    let metrics: WorkerMetrics
    /// Every route the router knows (method and pattern), for the tests that hold the API's
    /// document to them.
    let routes: [(method: String, pattern: String)]

    public init(services: Services) throws {
        let configuration = services.configuration
        let templates = try Templates(directory: configuration.templatesDirectory)
        let site = Site(templates: templates, configuration: configuration, logger: services.logger)
        let directory = services.directory
        let pages = RenderedContent()
        var router = Router()
        HomeRoutes(site: site, started: services.started).register(in: &router)
        ConnectorRoutes(site: site, directory: directory, pages: pages).register(in: &router)
        ServiceRoutes(site: site, directory: directory, pages: pages).register(in: &router)
        SampleRoutes(directory: directory, encoded: pages).register(in: &router)
        let access = StoreAccess(store: services.store, logger: services.logger)
        CaptureRoutes(site: site, access: access, box: services.box).register(in: &router)
        JobRoutes(site: site, access: access).register(in: &router)
        CollectionRoutes(
            site: site, access: access,
            exports: ThreadBudget(
                limit: configuration.concurrentExports,
                refusal: HTTPError(
                    status: 503, title: "Other downloads are running",
                    message: "\(configuration.concurrentExports) downloads are being written right now. "
                        + "Try again in a few seconds (curl: --retry 20).",
                    headers: ["Retry-After": "2"]))
        ).register(in: &router)
        let authentication = BearerAuthentication(
            tokens: configuration.apiTokens, access: access, failures: FailureThrottle(limit: configuration.apiFailuresPerMinute))
        APIRoutes(
            access: access, authentication: authentication, metrics: services.metrics, box: services.box, directory: directory
        ).register(in: &router)
        SettingsRoutes(site: site, access: access).register(in: &router)
        AuditRoutes(site: site, access: access, authentication: authentication).register(in: &router)
        self.metrics = services.metrics
        self.routes = router.routeList
        self.site = site
        self.dispatcher = Dispatcher(
            router: router,
            csrf: CSRF(secret: services.secret, secure: configuration.publicURL.lowercased().hasPrefix("https://")),
            logger: services.logger, publicURL: configuration.publicURL, errorPage: site.errorPage)
    }

    /// Answers one request as the FastCGI edge handed it over.
    public func respond(_ request: FastCGIRequest) async -> FastCGIResponse {
        metrics.requestServed()
        let response = await dispatcher.respond(cgi: request.params, body: request.body, bodyTooLarge: request.bodyTooLarge)
        let body: FastCGIResponse.Body =
            switch response.body {
            case .bytes(let bytes): .bytes(bytes)
            case .parts(let parts): .parts(parts)
            case .stream(let produce): .stream(produce)
            }
        return FastCGIResponse(status: response.status, headers: response.headers, body: body)
    }
}
