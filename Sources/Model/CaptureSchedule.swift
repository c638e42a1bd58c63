import Foundation

/// When a capture runs by itself: never (manual), or every N minutes, counted from the end of
/// the previous run so that runs never pile up. Estuary's `source-front` polls every five
/// minutes; new captures do the same.
public struct CaptureSchedule: Sendable, Equatable, Codable {
    /// The intervals a schedule may have, in minutes (a minute to a day).
    public static let minutes: ClosedRange<Int> = 1...1_440
    /// What the form offers besides a number of its own.
    public static let suggested = [1, 5, 15, 60]
    public static let standard = CaptureSchedule(everyMinutes: 5)
    public static let manual = CaptureSchedule(everyMinutes: nil)

    /// nil: manual (only **Sync now** or a script starts a run).
    public var everyMinutes: Int?
    /// A paused schedule keeps its interval but starts nothing until resumed.
    public var paused: Bool

    /// `everyMinutes` outside `minutes` is clamped into it: a value is always runnable.
    public init(everyMinutes: Int?, paused: Bool = false) {
        self.everyMinutes = everyMinutes.map { min(max($0, Self.minutes.lowerBound), Self.minutes.upperBound) }
        self.paused = paused
    }

    /// Whether it starts runs by itself now.
    public var isActive: Bool { everyMinutes != nil && !paused }

    /// When the next run is due after a run that ended at `end`; nil when nothing is due by itself.
    public func nextRun(afterRunEndedAt end: Date) -> Date? {
        guard isActive, let everyMinutes else { return nil }
        return end.addingTimeInterval(Double(everyMinutes) * 60)
    }

    /// Where a run missed while nothing was running (the service was down) starts: soon after
    /// `now`, each capture at its own offset within `spread` seconds (at most a tenth of its
    /// interval), so a hundred overdue captures do not all start in the same second. The offset
    /// is a function of the id, so every process computes the same one.
    public func catchUp(captureID: Int64, now: Date, spread: Double = 30) -> Date {
        let interval = Double(everyMinutes ?? 1) * 60
        let width = max(0, min(spread, interval / 10))
        // Fibonacci hashing of the id: consecutive ids land far apart in [0, 1).
        let unit = Double((UInt64(bitPattern: captureID) &* 0x9E37_79B9_7F4A_7C15) >> 11) / Double(1 << 53)
        return now.addingTimeInterval(unit * width)
    }

    /// In words, for pages and logs: "every 5 minutes", "manual", "every hour (paused)".
    public var description: String {
        guard let everyMinutes else { return "manual" }
        let every: String
        switch everyMinutes {
        case 1: every = "every minute"
        case 60: every = "every hour"
        case 1_440: every = "every day"
        case let n where n % 60 == 0: every = "every \(n / 60) hours"
        case let n: every = "every \(n) minutes"
        }
        return paused ? "\(every) (paused)" : every
    }
}
