import FastCGI
import Foundation
import Logging
import Store
import Web

/// The product wired together: configuration, templates, routes, and the FastCGI worker.
public struct Application: Sendable {
    public let site: Site
    public let dispatcher: Dispatcher
    let started = ContinuousClock.now

    public init(configuration: Configuration, logger: Logger) throws {
        let templates = try Templates(directory: configuration.templatesDirectory)
        let site = Site(templates: templates, configuration: configuration, logger: logger)
        let secret = try SecretKey.loadOrCreate(at: configuration.secretKeyFile)
        let store = try Store(path: configuration.databasePath)
        let directory = ConnectorDirectory(
            settings: configuration.fivetran, publicURL: configuration.publicURL, store: store, logger: logger)
        let rendered = RenderedPages()
        var router = Router()
        let started = ContinuousClock.now
        HomeRoutes(site: site, started: started).register(in: &router)
        ConnectorRoutes(site: site, directory: directory, rendered: rendered).register(in: &router)
        ServiceRoutes(site: site, directory: directory, rendered: rendered).register(in: &router)
        SampleRoutes(directory: directory).register(in: &router)
        self.site = site
        self.dispatcher = Dispatcher(
            router: router, csrf: CSRF(secret: secret), logger: logger, errorPage: site.errorPage)
    }

    /// Answers one FastCGI request (the worker threads call this).
    public func handle(_ request: FastCGIRequest) -> FastCGIResponse {
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
        try server.run()
    }
}
