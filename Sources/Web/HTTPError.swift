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
