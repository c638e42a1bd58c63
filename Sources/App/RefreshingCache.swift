import Foundation

/// A value fetched from upstream and kept for `ttl`. One reader at a time fetches: while it
/// does, the others get the previous value at once, or, when there is none yet, wait for that
/// one fetch rather than start their own — so a burst of page views costs one upstream call and
/// an expiry costs one reader the wait. When a refresh fails but an older value exists, readers
/// get the older value with the failure beside it (the page says so) rather than an error page.
final class RefreshingCache<Value: Sendable>: @unchecked Sendable {
    struct Snapshot {
        let value: Value
        /// Bumped on every successful fetch; keys caches of what was rendered from it.
        let version: Int
        let fetchedAt: Date
        /// Why the last refresh failed, when `value` is older than `ttl`.
        let refreshError: (any Error)?
    }

    private let ttl: Duration
    private let fetch: @Sendable () throws -> Value
    private let condition = NSCondition()
    private var current: (value: Value, version: Int, fetchedAt: Date, expires: ContinuousClock.Instant)?
    private var fetching = false
    private var lastError: (any Error)?
    private(set) var fetchCount = 0

    init(ttl: Duration, fetch: @escaping @Sendable () throws -> Value) {
        self.ttl = ttl
        self.fetch = fetch
    }

    /// The cached value, fetching first if there is none or it has expired.
    func get() throws -> Snapshot {
        condition.lock()
        while true {
            if let current, ContinuousClock.now < current.expires {
                defer { condition.unlock() }
                return Snapshot(value: current.value, version: current.version, fetchedAt: current.fetchedAt, refreshError: nil)
            }
            if !fetching { break }
            if let current {  // someone is refreshing: the previous value will do meanwhile
                defer { condition.unlock() }
                return Snapshot(value: current.value, version: current.version, fetchedAt: current.fetchedAt, refreshError: lastError)
            }
            condition.wait()
            // A fetch just finished: if it failed and there is nothing newer, share its outcome.
            if let current, ContinuousClock.now >= current.expires, let lastError {
                defer { condition.unlock() }
                return Snapshot(value: current.value, version: current.version, fetchedAt: current.fetchedAt, refreshError: lastError)
            }
            if current == nil, let lastError {
                condition.unlock()
                throw lastError
            }
        }
        fetching = true
        fetchCount += 1
        condition.unlock()

        let outcome = Result { try fetch() }

        condition.lock()
        defer {
            fetching = false
            condition.broadcast()
            condition.unlock()
        }
        switch outcome {
        case .success(let value):
            let version = (current?.version ?? 0) + 1
            current = (value, version, Date(), ContinuousClock.now + ttl)
            lastError = nil
            return Snapshot(value: value, version: version, fetchedAt: current!.fetchedAt, refreshError: nil)
        case .failure(let error):
            lastError = error
            guard let current else { throw error }
            return Snapshot(value: current.value, version: current.version, fetchedAt: current.fetchedAt, refreshError: error)
        }
    }

    /// The next `get` fetches again (after a create, or when Fivetran sends the browser back).
    func expire() {
        condition.lock()
        if let value = current { current = (value.value, value.version, value.fetchedAt, ContinuousClock.now) }
        condition.unlock()
    }
}
