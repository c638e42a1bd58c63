/// One request as libfcgi handed it over: the CGI parameters and the body, copied out of C.
public struct FastCGIRequest: Sendable {
    public var params: [String: String]
    public var body: [UInt8]
    /// The declared `CONTENT_LENGTH` was above the limit, so the body was not read.
    public var bodyTooLarge: Bool

    public init(params: [String: String], body: [UInt8] = [], bodyTooLarge: Bool = false) {
        self.params = params
        self.body = body
        self.bodyTooLarge = bodyTooLarge
    }
}

/// What to send back: a status, headers and a body, written by the server as a CGI response.
public struct FastCGIResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// Written one after another, as if concatenated.
        case parts([[UInt8]])
        /// Produces the body in chunks; `write` answers false once the client has gone.
        case stream(@Sendable (_ write: ([UInt8]) -> Bool) -> Void)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, headers: [(String, String)], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Reason phrases for the statuses this app answers.
func reasonPhrase(_ status: Int) -> String {
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
