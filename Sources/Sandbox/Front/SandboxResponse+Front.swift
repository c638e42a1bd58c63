import Foundation

extension SandboxResponse {
    /// JSON of a `FrontJSON`, whose ordered keys keep answers byte-for-byte the same for a seed.
    /// Front spells its header names in lower case, `content-type` too.
    static func json(_ status: Int, _ value: FrontJSON, headers: SandboxHeaders = [:]) -> Self {
        var all: SandboxHeaders = ["content-type": "application/json"]
        all.append(contentsOf: headers)
        return json(status, body: Data(value.encoded()), headers: all)
    }

    /// Front's error body, `{"_error":{"status","title","message"}}`.
    static func frontError(_ status: Int, _ title: String, _ message: String, headers: SandboxHeaders = [:]) -> Self {
        json(
            status,
            .object([("_error", .object([("status", .int(status)), ("title", .string(title)), ("message", .string(message))]))]),
            headers: headers)
    }

    static func frontBadRequest(_ message: String) -> Self { frontError(400, "Bad request", message) }
    static func frontNotFound(_ message: String) -> Self { frontError(404, "Not found", message) }
}
