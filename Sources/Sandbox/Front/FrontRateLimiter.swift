import Foundation

/// Front's rate limits as a value: a per-company budget per (scaled) minute, search at a share of
/// it, and an optional per-resource burst limit. Fed a request's route class and the time, it
/// answers "go" (with the headers to send) or "429" (with the wait). No clock inside, so the
/// arithmetic can be checked without sleeping.
struct FrontRateLimiter {
    let limit: Int
    let searchLimit: Int
    /// Seconds in a "minute" (60 in real life; the benchmark shortens it).
    let window: Double
    /// Requests per (scaled) second per resource, or nil when burst limiting is off.
    let burst: Int?
    let origin: Double

    private var windowIndex: Int = 0
    private var used = 0
    private var searchUsed = 0
    private var recent: [String: [Double]] = [:]

    init(limit: Int, searchShare: Double, minuteLength: Double, burstPerSecond: Int?, origin: Double) {
        self.limit = max(1, limit)
        self.searchLimit = max(1, Int((Double(max(1, limit)) * searchShare).rounded(.down)))
        self.window = max(0.001, minuteLength)
        self.burst = burstPerSecond.flatMap { $0 > 0 ? $0 : nil }
        self.origin = origin.rounded(.down)
    }

    enum Kind: String { case company, search, burst }

    struct Decision {
        var allowed: Bool
        var kind: Kind?
        var remaining: Int
        /// UNIX seconds of the next reset of the company window.
        var reset: Double
        /// Exact wait before a retry can succeed, in seconds (0 when allowed).
        var wait: Double
    }

    private mutating func roll(to now: Double) {
        let index = Int(((now - origin) / window).rounded(.down))
        if index != windowIndex {
            windowIndex = index
            used = 0
            searchUsed = 0
        }
    }

    private var windowEnd: Double { origin + Double(windowIndex + 1) * window }

    /// Headers-only view (no request counted), for responses that never reach the limiter.
    mutating func peek(now: Double) -> Decision {
        roll(to: now)
        return Decision(allowed: true, kind: nil, remaining: max(0, limit - used), reset: windowEnd, wait: 0)
    }

    mutating func reset(now: Double) {
        windowIndex = Int(((now - origin) / window).rounded(.down))
        used = 0
        searchUsed = 0
        recent = [:]
    }

    /// Counts the request if it may go. `resource` names the burst bucket ("conversations", …).
    mutating func admit(resource: String, isSearch: Bool, now: Double) -> Decision {
        roll(to: now)
        let end = windowEnd
        if used >= limit {
            return Decision(allowed: false, kind: .company, remaining: 0, reset: end, wait: end - now)
        }
        if isSearch, searchUsed >= searchLimit {
            return Decision(allowed: false, kind: .search, remaining: limit - used, reset: end, wait: end - now)
        }
        if let burst {
            let span = window / 60
            var times = recent[resource, default: []]
            if let cut = times.firstIndex(where: { $0 > now - span }) { times.removeFirst(cut) } else { times.removeAll() }
            if times.count >= burst {
                recent[resource] = times
                return Decision(allowed: false, kind: .burst, remaining: limit - used, reset: end, wait: times[0] + span - now)
            }
            times.append(now)
            recent[resource] = times
        }
        used += 1
        if isSearch { searchUsed += 1 }
        return Decision(allowed: true, kind: nil, remaining: limit - used, reset: end, wait: 0)
    }
}
