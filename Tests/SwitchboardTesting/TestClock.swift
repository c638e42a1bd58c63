import Foundation
import Synchronization

/// Virtual time for the code under test: sleeping moves the clock on at once and is written
/// down, so paced and retried work runs without waiting and a test can read every wait asked for.
///
/// One clock, read the two ways the product asks for time: UNIX seconds (`unixTime`, `date`; Front's
/// rate-limit resets are UNIX timestamps) and a monotonic instant (`instant`; Fivetran's deadlines).
/// Hand it over as closures: `FrontClock(now: { clock.unixTime }, sleep: clock.sleep(seconds:))`,
/// or `FivetranClient(…, sleep: clock.sleep(for:), now: { clock.instant })`.
public final class TestClock: Sendable {
    /// Where a clock starts unless told: 2024-11-15T19:46:40Z, after every test's seeded data.
    public static let defaultStart: Double = 1_731_700_000

    private let start: Double
    private let origin = ContinuousClock.now
    private let state = Mutex<(elapsed: Duration, sleeps: [Duration])>((.zero, []))

    /// - Parameter unixTime: the UNIX time the clock reads before anything moves it.
    public init(unixTime: Double = TestClock.defaultStart) {
        start = unixTime
    }

    /// How far the clock has moved since it was made.
    public var elapsed: Duration { state.withLock { $0.elapsed } }

    /// Now, in UNIX seconds.
    public var unixTime: Double { start + Self.seconds(elapsed) }

    /// Now, as a date.
    public var date: Date { Date(timeIntervalSince1970: unixTime) }

    /// Now, as a monotonic instant.
    public var instant: ContinuousClock.Instant { origin.advanced(by: elapsed) }

    /// Every wait longer than zero, in the order they were asked for (a zero wait is no wait:
    /// the Front client asks for one before each request the rate limiter lets through at once).
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }

    /// Moves the clock on without counting a sleep (time passing between two runs, say).
    public func advance(by duration: Duration) {
        state.withLock { $0.elapsed += max(.zero, duration) }
    }

    public func advance(seconds: Double) { advance(by: Self.duration(seconds)) }

    /// Sleeps without waiting: throws if the task is cancelled, as `Task.sleep` does; otherwise
    /// writes the wait down and moves the clock on by it.
    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        guard duration > .zero else { return }
        state.withLock {
            $0.sleeps.append(duration)
            $0.elapsed += duration
        }
    }

    /// `sleep(for:)` in seconds. Bounded as `FrontClock.system` bounds it: NaN and anything not
    /// above zero are no wait, and an endless one is a day.
    public func sleep(seconds: Double) async throws {
        try await sleep(for: Self.duration(seconds))
    }

    private static func duration(_ seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }  // NaN is not > 0 either
        return .seconds(min(seconds, 86_400))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
