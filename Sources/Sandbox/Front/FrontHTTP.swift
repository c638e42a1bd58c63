import Foundation

/// The plain request the sandbox's logic sees (FlyingFox stays at the edge).
struct FrontRequest: Sendable {
    var method: String
    /// Percent-encoded path, as on the request line.
    var path: String
    /// Percent-encoded query string, without `?`.
    var query: String
    var authorization: String?
    var body: Data

    /// Query items in order, names and values percent-decoded (`+` read as a space).
    var queryItems: [(name: String, value: String)] {
        guard !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Path segments, each percent-decoded (so an encoded `/` stays inside its segment).
    var segments: [String] {
        path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0.removingPercentEncoding ?? String($0) }
    }
}

/// The plain response: status, headers, body, and how long to hold it back (injected latency).
struct FrontResponse: Error, Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    var delay: Double = 0

    static func json(_ status: Int, _ value: FrontJSON, headers: [(String, String)] = []) -> FrontResponse {
        FrontResponse(status: status, headers: [("content-type", "application/json")] + headers, body: value.encoded())
    }

    static func error(_ status: Int, _ title: String, _ message: String, headers: [(String, String)] = []) -> FrontResponse {
        json(status, .object([("_error", .object([("status", .int(status)), ("title", .string(title)), ("message", .string(message))]))]), headers: headers)
    }

    static func badRequest(_ message: String) -> FrontResponse { error(400, "Bad request", message) }
    static func notFound(_ message: String) -> FrontResponse { error(404, "Not found", message) }
}
