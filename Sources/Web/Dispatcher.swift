import Foundation
import Logging

/// Everything between a parsed request and the bytes sent back: routing, the CSRF guard, error
/// pages and the one log line per request. A handler that throws an `HTTPError` gets that page;
/// anything else it throws becomes a 500 page whose request id is also in the log.
public struct Dispatcher: Sendable {
    public typealias ErrorPage = @Sendable (HTTPError, Request) -> Response

    private let router: Router
    private let csrf: CSRF
    private let logger: Logger
    private let renderError: ErrorPage

    public init(router: Router, csrf: CSRF, logger: Logger, errorPage: @escaping ErrorPage) {
        self.router = router
        self.csrf = csrf
        self.logger = logger
        self.renderError = errorPage
    }

    /// The error's page, with the headers it carries (`Allow` on a 405, say).
    private func errorPage(_ error: HTTPError, _ request: Request) -> Response {
        var response = renderError(error, request)
        for (name, value) in error.headers { response.setHeader(name, value) }
        return response
    }

    /// Parses the CGI variables, answers, and logs the request.
    public func respond(cgi: [String: String], body: [UInt8], bodyTooLarge: Bool) -> Response {
        let start = ContinuousClock.now
        var request: Request
        var response: Response
        do {
            request = try Request(cgi: cgi, body: body, bodyTooLarge: bodyTooLarge)
            response = respond(to: &request)
        } catch {
            request = Request(
                method: cgi["REQUEST_METHOD"] ?? "GET", path: cgi["SCRIPT_NAME"] ?? "/",
                headers: ["accept": cgi["HTTP_ACCEPT"] ?? ""],
                requestID: cgi["REQUEST_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? randomRequestID())
            response = errorPage(error, request)
        }
        response.setHeader("X-Request-Id", request.requestID)
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        logger.info(
            "\(request.method) \(request.path) \(response.status) \(String(format: "%.1f", milliseconds))ms",
            metadata: ["request_id": "\(request.requestID)"])
        return response
    }

    /// Routes and runs the handler; never throws.
    public func respond(to request: inout Request) -> Response {
        if request.bodyTooLarge { return errorPage(.payloadTooLarge, request) }
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            return errorPage(.notFound(), request)
        case .methodNotAllowed(let allowed):
            return errorPage(.methodNotAllowed(allowed), request)
        case .found(let handler, let parameters):
            request.pathParameters = parameters
            let cookie = request.cookies[CSRF.cookieName]
            request.csrf = CSRFToken(existing: cookie.flatMap { csrf.isValid($0) ? $0 : nil }, issuer: csrf)
            var response: Response
            do throws(HTTPError) {
                try checkCSRF(request, cookie: cookie)
                response = run(handler, request)
            } catch {
                response = errorPage(error, request)
            }
            // Only a response that rendered a form with a new token needs the cookie.
            if request.csrf.issuedNew {
                response.headers.append(("Set-Cookie", Cookies.setCookie(name: CSRF.cookieName, value: request.csrf.value)))
            }
            return response
        }
    }

    /// Throws 403 when a state-changing request lacks the token (or 400/415 when its form
    /// body cannot be read at all, which also changes nothing).
    private func checkCSRF(_ request: Request, cookie: String?) throws(HTTPError) {
        guard needsCSRFCheck(request) else { return }
        let field = try request.form()[CSRF.fieldName]
        guard csrf.check(cookie: cookie, field: field) else {
            throw .forbidden(
                "This form has expired or did not come from this site, so nothing was changed. "
                    + "Go back, reload the page and send it again.")
        }
    }

    /// Form posts need the token; JSON bodies cannot be sent cross-site without CORS (which we
    /// never grant) and `/api/` authenticates with a bearer token instead of cookies.
    private func needsCSRFCheck(_ request: Request) -> Bool {
        guard !["GET", "HEAD", "OPTIONS"].contains(request.method) else { return false }
        if request.path.hasPrefix("/api/") { return false }
        return request.mediaType != "application/json"
    }

    private func run(_ handler: Router.Handler, _ request: Request) -> Response {
        do {
            return try handler(request)
        } catch let error as HTTPError {
            return errorPage(error, request)
        } catch {
            logger.error(
                "handler failed: \(String(describing: error))",
                metadata: ["request_id": "\(request.requestID)", "path": "\(request.path)"])
            return errorPage(
                HTTPError(
                    status: 500, title: "Something went wrong",
                    message: "The server could not answer this request. Quote request id \(request.requestID) when reporting it."),
                request)
        }
    }
}
