import Capture
import Foundation
import Model

/// A job's per-binding progress: what earlier attempts of the job counted (before a crash or a
/// restart) plus what the engine reports in this attempt. A value; the runner keeps it behind a
/// lock and stores `bindings` with each heartbeat.
public struct ProgressTally: Sendable, Equatable {
    private var base: [String: JobBindingProgress]
    private var current: [String: BindingProgress] = [:]
    private let order: [String]
    private let startDate: Date

    /// `stored` is the job's progress as last saved; `bindings` the capture's.
    public init(bindings: [CaptureBinding], stored: [JobBindingProgress], startDate: Date) {
        var base: [String: JobBindingProgress] = [:]
        for binding in bindings {
            var entry =
                stored.first { $0.name == binding.collection }
                ?? JobBindingProgress(name: binding.collection, resource: binding.resource.rawValue)
            // A new attempt starts every binding over; its counts add to the earlier ones.
            entry.done = false
            entry.state = "waiting"
            entry.error = nil
            entry.fraction = nil
            base[binding.collection] = entry
        }
        self.base = base
        self.order = bindings.map(\.collection)
        self.startDate = startDate
    }

    public mutating func record(_ progress: BindingProgress) {
        current[progress.collection] = progress
    }

    /// Every binding, in the capture's order, as of `now`.
    public func bindings(now: Date = Date()) -> [JobBindingProgress] {
        order.compactMap { name in
            guard var entry = base[name] else { return nil }
            guard let progress = current[name] else { return entry }
            entry.pages += progress.pages
            entry.documents += progress.written
            entry.deleted += progress.deleted
            entry.requests += progress.requests
            entry.cursor = progress.cursor ?? entry.cursor
            switch progress.state {
            case .waiting: entry.state = "waiting"
            case .running: entry.state = "running"
            case .done: entry.state = "done"
            case .cancelled: entry.state = "cancelled"
            case .failed(let why):
                entry.state = "failed"
                entry.error = why
            }
            entry.done = progress.state == .done
            entry.fraction = entry.done ? 1 : Self.fraction(cursor: progress.cursor, start: startDate, now: now)
            return entry
        }
    }

    /// How far a time cursor ("2024-11-15T10:00:00Z", "searched to 2024-…") is between the
    /// start date and now; nil when the cursor is not a time (snapshot bindings).
    static func fraction(cursor: String?, start: Date, now: Date) -> Double? {
        guard let word = cursor?.split(separator: " ").last,
            let at = try? Date(String(word), strategy: .iso8601)
        else { return nil }
        let span = now.timeIntervalSince(start)
        guard span > 0 else { return nil }
        return min(1, max(0, at.timeIntervalSince(start) / span))
    }
}
