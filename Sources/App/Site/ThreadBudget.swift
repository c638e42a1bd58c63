import Synchronization
import Web

/// A bound on the worker threads one kind of slow work may hold at once (waiting on Fivetran,
/// streaming a download). Beyond it the request gets `refusal` (a 503 with `Retry-After`) at
/// once, so that kind of work can never take every thread and stop the pages that need none.
final class ThreadBudget: Sendable {
    private let limit: Int
    private let inUse = Atomic<Int>(0)
    private let refusal: HTTPError

    init(limit: Int, refusal: HTTPError) {
        self.limit = max(1, limit)
        self.refusal = refusal
    }

    /// Runs `body` holding a slot.
    func run<T>(_ body: () async throws -> T) async throws -> T {
        try enter()
        defer { leave() }
        return try await body()
    }

    /// Takes a slot (or throws the refusal); pair with `leave()`, for work that outlives the
    /// handler (a streamed body).
    func enter() throws(HTTPError) {
        guard inUse.add(1, ordering: .sequentiallyConsistent).newValue <= limit else {
            inUse.subtract(1, ordering: .sequentiallyConsistent)
            throw refusal
        }
    }

    func leave() { inUse.subtract(1, ordering: .sequentiallyConsistent) }
}
