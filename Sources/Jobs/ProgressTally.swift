import Capture
import Foundation
import Model

/// A job's per-binding progress: what earlier attempts of the job counted (before a crash or a
/// restart) plus what the engine reports in this attempt. A value; the runner keeps it behind a
/// lock and stores `bindings` with each heartbeat.
public struct ProgressTally: Sendable, Equatable {
    private var base: [String: BindingProgress]
    private var current: [String: BindingProgress] = [:]
    private let order: [String]

    /// `stored` is the job's progress as last saved; `bindings` the capture's.
    public init(bindings: [CaptureBinding], stored: [BindingProgress]) {
        var base: [String: BindingProgress] = [:]
        for binding in bindings {
            var entry =
                stored.first { $0.name == binding.collection }
                ?? BindingProgress(name: binding.collection, resource: binding.resource.rawValue)
            // A new attempt starts every binding over; its counts add to the earlier ones.
            entry.state = .waiting
            entry.error = nil
            entry.fraction = nil
            base[binding.collection] = entry
        }
        self.base = base
        self.order = bindings.map(\.collection)
    }

    public mutating func record(_ progress: BindingProgress) {
        current[progress.name] = progress
    }

    /// Every binding, in the capture's order.
    public var bindings: [BindingProgress] {
        order.compactMap { name in
            guard var entry = base[name] else { return nil }
            guard let progress = current[name] else { return entry }
            entry.pages += progress.pages
            entry.documents += progress.documents
            entry.deleted += progress.deleted
            entry.requests += progress.requests
            entry.position = progress.position ?? entry.position
            entry.state = progress.state
            entry.error = progress.error
            entry.fraction = progress.fraction
            return entry
        }
    }
}
