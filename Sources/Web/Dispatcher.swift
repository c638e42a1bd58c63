import Foundation
import Logging
import Metrics

/// Everything between a parsed request and the bytes sent back: routing, the CSRF guard, error
/// pages and the one log line per request. A handler that throws an `HTTPError` gets that page;
/// anything else it throws becomes a 500 page whose request id is also in the log.
public struct Dispatcher: Sendable {
    public typealias ErrorPage = @Sendable (HTTPError, Request) -> Response

    private let router: Router
    private let csrf: CSRF
    private let logger: Logger
    private let renderError: ErrorPage
    /// This site's origin as browsers send it (`http://127.0.0.1:8080`), from the public URL.
    private let origin: String?

    /// `publicURL`: the app's URL as the browser sees it; a state-changing request whose
    /// `Origin` is another site's is refused.
    public init(router: Router, csrf: CSRF, logger: Logger, publicURL: String? = nil, errorPage: @escaping ErrorPage) {
        self.router = router
        self.csrf = csrf
        self.logger = logger
        self.renderError = errorPage
        self.origin = publicURL.flatMap(Self.origin(of:))
    }

    /// `scheme://host[:port]` of a URL, lower-cased, as an `Origin` header spells it.
    static func origin(of url: String) -> String? {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
            let host = parts.host?.lowercased(), !host.isEmpty
        else { return nil }
        return "\(scheme)://\(host)" + (parts.port.map { ":\($0)" } ?? "")
    }

    /// The error's page, with the headers it carries (`Allow` on a 405, say).
    private func errorPage(_ error: HTTPError, _ request: Request) -> Response {
        var response = renderError(error, request)
        for (name, value) in error.headers { response.setHeader(name, value) }
        return response
    }

    /// Parses the CGI variables, answers, and logs the request.
    public func respond(cgi: [String: String], body: [UInt8], bodyTooLarge: Bool) async -> Response {
        let start = ContinuousClock.now
        var request: Request
        var response: Response
        do {
            request = try Request(cgi: cgi, body: body, bodyTooLarge: bodyTooLarge)
            response = await respond(to: &request)
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
        CoreMetrics.Timer(
            label: "switchboard_http_request_duration_seconds",
            dimensions: [("route", request.route ?? "unmatched"), ("method", request.method), ("status", "\(response.status)")]
        ).record(duration: elapsed)
        logger.info(
            "\(request.method) \(request.path) \(response.status) \(String(format: "%.1f", milliseconds))ms",
            metadata: ["request_id": "\(request.requestID)"])
        return response
    }

    /// Routes and runs the handler; never throws.
    public func respond(to request: inout Request) async -> Response {
        if request.bodyTooLarge { return errorPage(.payloadTooLarge, request) }
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            return errorPage(.notFound(), request)
        case .methodNotAllowed(let allowed):
            return errorPage(.methodNotAllowed(allowed), request)
        case .found(let handler, let parameters, let pattern):
            request.pathParameters = parameters
            request.route = pattern
            let cookie = request.cookies[csrf.cookieName]
            request.csrf = CSRFToken(existing: cookie.flatMap { csrf.isValid($0) ? $0 : nil }, issuer: csrf)
            var response: Response
            do throws(HTTPError) {
                try checkCSRF(request, cookie: cookie)
                response = await run(handler, request)
            } catch {
                response = errorPage(error, request)
            }
            // Only a response that rendered a form with a new token needs the cookie.
            if request.csrf.issuedNew {
                response.headers.append(("Set-Cookie", csrf.setCookie(request.csrf.value)))
            }
            return response
        }
    }

    /// Throws 403 when a state-changing request came from another site (its `Origin` or
    /// `Sec-Fetch-Site` says so) or lacks the token, whatever its `Content-Type` (or 400 when
    /// its form body cannot be read at all, which also changes nothing).
    ///
    /// `/api/` authenticates with a bearer token, never a cookie, so it has nothing to forge.
    /// The sample's JSON routes (`/_/`) keep working for its client without a token, but only
    /// for a real JSON body from this site: a cross-site page can send `application/json` only
    /// after a CORS preflight, which is never granted.
    private func checkCSRF(_ request: Request, cookie: String?) throws(HTTPError) {
        guard !["GET", "HEAD", "OPTIONS"].contains(request.method), !request.path.hasPrefix("/api/") else { return }
        let refusal = HTTPError.forbidden(
            "This form has expired or did not come from this site, so nothing was changed. "
                + "Go back, reload the page and send it again.")
        guard isSameSite(request) else { throw refusal }
        if request.path.hasPrefix("/_/"), request.mediaType == "application/json", !request.body.isEmpty { return }
        let presented: String?
        if request.mediaType == "application/x-www-form-urlencoded" {
            presented = try request.form()[CSRF.fieldName]
        } else {
            presented = request.header(CSRF.headerName)
        }
        guard csrf.check(cookie: cookie, field: presented) else { throw refusal }
    }

    /// What the browser says of where the request came from (Fetch Metadata, then `Origin`).
    /// Clients that send neither (curl, old browsers) are judged by the token alone.
    private func isSameSite(_ request: Request) -> Bool {
        if let site = request.header("sec-fetch-site")?.lowercased(), site != "same-origin", site != "none" {
            return false
        }
        guard let sent = request.header("origin")?.lowercased() else { return true }
        if let origin, sent == origin { return true }
        // Reached under another name than the public URL (localhost vs 127.0.0.1): the origin
        // must then name the very host the request was sent to.
        if let host = request.header("host")?.lowercased(), let sentOrigin = URLComponents(string: sent),
            let sentHost = sentOrigin.host, !sentHost.isEmpty
        {
            return sentHost + (sentOrigin.port.map { ":\($0)" } ?? "") == host
        }
        return false
    }

    private func run(_ handler: Router.Handler, _ request: Request) async -> Response {
        do {
            return try await handler(request)
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
