import Foundation
import Synchronization

/// Failed attempts per client address in a sliding minute: past `limit`, the address waits
/// out the rest of its minute (the caller answers 429 with that `Retry-After`). Memory is
/// bounded: past `capacity` addresses, windows that ended are dropped, then all.
final class FailureThrottle: Sendable {
    let limit: Int
    let window: Double
    let capacity: Int
    private let failures = Mutex<[String: (count: Int, since: Double)]>([:])
    private let now: @Sendable () -> Double

    init(
        limit: Int = 10, window: Double = 60, capacity: Int = 10_000,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.limit = limit
        self.window = window
        self.capacity = capacity
        self.now = now
    }

    /// Whole seconds this address must still wait, or nil when it may try.
    func retryAfter(_ address: String) -> Int? {
        let at = now()
        return failures.withLock { all -> Int? in
            guard let entry = all[address], entry.count >= limit else { return nil }
            let left = entry.since + window - at
            guard left > 0 else {
                all[address] = nil
                return nil
            }
            return max(1, Format.whole(left.rounded(.up)))
        }
    }

    func failed(_ address: String) {
        let at = now()
        failures.withLock { all in
            if all.count >= capacity {
                all = all.filter { $0.value.since + window > at }
                if all.count >= capacity { all.removeAll() }
            }
            if let entry = all[address], entry.since + window > at {
                all[address] = (entry.count + 1, entry.since)
            } else {
                all[address] = (1, at)
            }
        }
    }
}
