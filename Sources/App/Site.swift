import Logging
import Web

/// What every page shares: the templates, the layout's values (navigation, footer, CSRF
/// token) and the error page. Handlers build their own values and call `page`.
public struct Site: Sendable {
    public let templates: Templates
    public let configuration: Configuration
    public let logger: Logger

    public init(templates: Templates, configuration: Configuration, logger: Logger) {
        self.templates = templates
        self.configuration = configuration
        self.logger = logger
    }

    /// Renders `template` (which extends `layout`) with the page's values plus the layout's.
    public func page(
        _ template: String, title: String, section: String, values: [String: Any] = [:], request: Request,
        status: Int = 200
    ) throws -> Response {
        var context = values
        context["title"] = title
        context["section_\(section)"] = true
        context["csrf"] = request.csrf  // rendered (and so issued) only by templates with a form
        context["csrf_field"] = CSRF.fieldName
        context["version"] = configuration.version
        context["sandbox"] = configuration.sandbox
        if let user = request.remoteUser { context["remote_user"] = user }
        return .html(try templates.render(template, context), status: status)
    }

    /// The error page: HTML through the layout, or JSON for scripts and the sample's client.
    public func errorPage(_ error: HTTPError, _ request: Request) -> Response {
        let response: Response
        if request.wantsJSON || request.path.hasPrefix("/api/") || request.path.hasPrefix("/_/") {
            response = .json(
                ["error": ["status": "\(error.status)", "title": error.title, "message": error.message,
                           "request_id": request.requestID]],
                status: error.status)
        } else {
            let values: [String: Any] = [
                "status": error.status, "heading": error.title, "message": error.message,
                "request_id": request.requestID,
            ]
            do {
                response = try page("error", title: error.title, section: "none", values: values, request: request,
                    status: error.status)
            } catch let renderError {
                // The error template itself is broken: still answer, in plain text.
                logger.error("error page failed to render: \(renderError)")
                response = .text("\(error.title): \(error.message)\n", status: error.status)
            }
        }
        return response
    }
}
