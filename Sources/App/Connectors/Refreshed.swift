import Foundation
import Synchronization

/// A value fetched from upstream and kept fresh in the background (`FivetranRefresher`).
///
/// Readers take the current value at once, however old, and never wait on upstream, except
/// when there is no value yet: then they share the one fetch in flight. A refresh that fails
/// keeps the older value, with the failure beside it (the page says so). Each success bumps
/// `version`, which keys whatever is rendered or encoded from the value.
final class Refreshed<Value: Sendable>: Sendable {
    struct Snapshot: Sendable {
        let value: Value
        /// Bumped on every successful fetch.
        let version: Int
        let fetchedAt: Date
        /// Why the last refresh failed, when it did (`value` is then the older one).
        let refreshError: (any Error)?
    }

    private struct State {
        var current: Snapshot?
        var inFlight: Task<Snapshot, any Error>?
        /// When the refresher should fetch again.
        var due: ContinuousClock.Instant = .now
    }

    /// How long a value stays fresh; 0 means every read fetches (as a cache of nothing).
    let ttl: Duration
    private let fetch: @Sendable () async throws -> Value
    private let state = Mutex(State())

    init(ttl: Duration, fetch: @escaping @Sendable () async throws -> Value) {
        self.ttl = ttl
        self.fetch = fetch
    }

    /// The value to show now: the current one, or (when there is none yet, or the TTL is 0)
    /// the result of a fetch shared with every other reader waiting for it.
    func current() async throws -> Snapshot {
        if ttl > .zero, let current = state.withLock({ $0.current }) { return current }
        return try await refresh()
    }

    /// Fetches now, or joins the fetch already in flight, and answers the snapshot after it.
    @discardableResult
    func refresh() async throws -> Snapshot {
        let task = state.withLock { state -> Task<Snapshot, any Error> in
            if let running = state.inFlight { return running }
            // On the global executor, not the request thread that happened to ask first: the
            // fetch is shared, so it must not depend on that one request's thread.
            let task = Task(executorPreference: globalConcurrentExecutor) { [self] in try await fetchAndStore() }
            state.inFlight = task
            return task
        }
        return try await task.value
    }

    private func fetchAndStore() async throws -> Snapshot {
        do {
            let value = try await fetch()
            return state.withLock { state in
                let snapshot = Snapshot(
                    value: value, version: (state.current?.version ?? 0) + 1, fetchedAt: Date(), refreshError: nil)
                state.current = snapshot
                state.inFlight = nil
                state.due = .now + ttl
                return snapshot
            }
        } catch {
            let older = state.withLock { state -> Snapshot? in
                state.inFlight = nil
                // Try again soon, but not in a loop: a few seconds, never later than the TTL.
                state.due = .now + min(ttl, .seconds(5))
                guard let current = state.current else { return nil }
                let kept = Snapshot(
                    value: current.value, version: current.version, fetchedAt: current.fetchedAt, refreshError: error)
                state.current = kept
                return kept
            }
            guard let older else { throw error }
            return older
        }
    }

    /// The value kept now, if any, without fetching.
    func peek() -> Value? { state.withLock { $0.current?.value } }

    /// When the refresher should fetch next.
    var due: ContinuousClock.Instant { state.withLock { $0.due } }

}
