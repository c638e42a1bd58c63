import Foundation

/// One HTTP request as the handlers see it: plain values, no FastCGI.
public struct Request: Sendable {
    public var method: String
    /// Decoded and normalised by nginx (`SCRIPT_NAME`), so routing never sees `%2F` tricks.
    public var path: String
    public var query: Parameters
    /// Lower-cased names (`content-type`, `accept`, `cookie`, …).
    public var headers: [String: String]
    public var body: [UInt8]
    public var bodyTooLarge: Bool
    /// Set by nginx `auth_basic` (or another front) as `REMOTE_USER`.
    public var remoteUser: String?
    /// The client's address as nginx saw it (`REMOTE_ADDR`).
    public var remoteAddress: String?
    public var requestID: String
    /// Filled in by the router: `{id}` in `/connectors/{id}/setup`.
    public var pathParameters: [String: String] = [:]
    /// The matched route's pattern (`/jobs/{id}`), set by the dispatcher; nil when none matched.
    public var route: String?
    /// The CSRF token for forms rendered for this request (set by the dispatcher; issued lazily).
    public var csrf = CSRFToken()
    public var csrfToken: String { csrf.value }

    public init(
        method: String, path: String, query: Parameters = Parameters(), headers: [String: String] = [:],
        body: [UInt8] = [], bodyTooLarge: Bool = false, remoteUser: String? = nil, remoteAddress: String? = nil,
        requestID: String = "test"
    ) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.bodyTooLarge = bodyTooLarge
        self.remoteUser = remoteUser
        self.remoteAddress = remoteAddress
        self.requestID = requestID
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    public subscript(parameter name: String) -> String? { pathParameters[name] }

    /// The media type of the body, without parameters: `application/x-www-form-urlencoded`.
    public var mediaType: String? {
        header("content-type").map {
            $0.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                ?? ""
        }
    }

    public var cookies: [String: String] { Cookies.parse(header("cookie") ?? "") }

    /// Whether the client asked for JSON rather than a page (`Accept: application/json`).
    public var wantsJSON: Bool {
        guard let accept = header("accept") else { return false }
        return accept.contains("application/json") && !accept.contains("text/html")
    }

    /// The form fields of an `application/x-www-form-urlencoded` body.
    public func form() throws(HTTPError) -> Parameters {
        guard mediaType == "application/x-www-form-urlencoded" else {
            throw .unsupportedMediaType("Send this form as application/x-www-form-urlencoded.")
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            throw .badRequest("The form body is not valid UTF-8.")
        }
        return try Parameters.decode(text, origin: "form body")
    }
}

extension Request {
    /// Builds a request from the CGI variables nginx passes (`fastcgi_params`). Routes on
    /// `SCRIPT_NAME` + `PATH_INFO`; parses `QUERY_STRING` here, so a malformed one is a 400.
    public init(cgi: [String: String], body: [UInt8], bodyTooLarge: Bool) throws(HTTPError) {
        var headers: [String: String] = [:]
        for (key, value) in cgi where key.hasPrefix("HTTP_") {
            headers[headerName(cgi: key)] = value
        }
        if let type = cgi["CONTENT_TYPE"], !type.isEmpty { headers["content-type"] = type }
        if let length = cgi["CONTENT_LENGTH"], !length.isEmpty { headers["content-length"] = length }
        var path = (cgi["SCRIPT_NAME"] ?? "") + (cgi["PATH_INFO"] ?? "")
        if path.isEmpty {
            let uri = cgi["REQUEST_URI"] ?? "/"
            path = percentDecode(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]) ?? "/"
        }
        self.init(
            method: cgi["REQUEST_METHOD"] ?? "GET",
            path: path.isEmpty ? "/" : path,
            headers: headers,
            body: body,
            bodyTooLarge: bodyTooLarge,
            remoteUser: cgi["REMOTE_USER"].flatMap { $0.isEmpty ? nil : $0 },
            remoteAddress: cgi["REMOTE_ADDR"].flatMap { $0.isEmpty ? nil : $0 },
            requestID: cgi["REQUEST_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? randomRequestID())
        self.query = try Parameters.decode(cgi["QUERY_STRING"] ?? "")
    }
}

/// `HTTP_X_FORWARDED_FOR` → `x-forwarded-for`, byte by byte (this runs for every header of
/// every request).
func headerName(cgi key: String) -> String {
    var bytes = [UInt8]()
    bytes.reserveCapacity(key.utf8.count - 5)
    for byte in key.utf8.dropFirst(5) {
        switch byte {
        case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "-"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): bytes.append(byte + 32)
        default: bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// 16 random hex digits, when nginx did not hand over its `$request_id`.
public func randomRequestID() -> String {
    var generator = SystemRandomNumberGenerator()
    let value = generator.next() as UInt64
    let hex = String(value, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
