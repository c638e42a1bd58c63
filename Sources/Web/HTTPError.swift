/// A failure a person can act on, with the status it answers. Handlers throw these for bad
/// input; anything else a handler throws becomes a 500 page with a request id.
public struct HTTPError: Error, Sendable, Equatable {
    public var status: Int
    public var title: String
    public var message: String
    public var headers: [String: String]

    public init(status: Int, title: String, message: String, headers: [String: String] = [:]) {
        self.status = status
        self.title = title
        self.message = message
        self.headers = headers
    }

    public static func badRequest(_ message: String) -> HTTPError {
        HTTPError(status: 400, title: "Bad request", message: message)
    }
    public static func unauthorized(_ message: String) -> HTTPError {
        HTTPError(status: 401, title: "Unauthorized", message: message)
    }
    public static func forbidden(_ message: String) -> HTTPError {
        HTTPError(status: 403, title: "Forbidden", message: message)
    }
    public static func notFound(_ message: String = "There is no page at this address.") -> HTTPError {
        HTTPError(status: 404, title: "Not found", message: message)
    }
    public static func methodNotAllowed(_ allowed: [String]) -> HTTPError {
        HTTPError(
            status: 405, title: "Method not allowed",
            message: "This address answers \(allowed.joined(separator: ", ")) only.",
            headers: ["Allow": allowed.joined(separator: ", ")])
    }
    public static func conflict(_ message: String) -> HTTPError {
        HTTPError(status: 409, title: "Conflict", message: message)
    }
    public static let payloadTooLarge = HTTPError(
        status: 413, title: "Request too large", message: "The request body is over the limit of 1 MiB.")
    public static func unsupportedMediaType(_ message: String) -> HTTPError {
        HTTPError(status: 415, title: "Unsupported media type", message: message)
    }
    public static func unprocessable(_ message: String) -> HTTPError {
        HTTPError(status: 422, title: "Cannot accept this", message: message)
    }
}

/// Reason phrases for the statuses this app answers.
public func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 200: "OK"
    case 201: "Created"
    case 202: "Accepted"
    case 204: "No Content"
    case 302: "Found"
    case 303: "See Other"
    case 304: "Not Modified"
    case 400: "Bad Request"
    case 401: "Unauthorized"
    case 403: "Forbidden"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 409: "Conflict"
    case 413: "Payload Too Large"
    case 415: "Unsupported Media Type"
    case 422: "Unprocessable Content"
    case 429: "Too Many Requests"
    case 500: "Internal Server Error"
    case 502: "Bad Gateway"
    case 503: "Service Unavailable"
    case 504: "Gateway Timeout"
    default: "Status"
    }
}
