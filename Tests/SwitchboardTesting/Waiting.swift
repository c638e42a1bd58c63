import Foundation

/// A test helper's failure, saying what did not happen.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` every 50 ms until it holds; throws naming `what` after `timeout` seconds.
/// For what a test cannot await directly (another process's file, port or log line).
public func waitUntil(_ what: String, timeout: TimeInterval = 30, _ condition: () async -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out waiting until \(what)")
}
