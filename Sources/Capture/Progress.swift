import Foundation
import Model
import Store
import Synchronization

/// Every binding's progress behind one lock; each change is passed on to the observer at once.
///
/// A binding can be served by two state machines at once (conversations: search windows and
/// the event feed): it is done when both are, and its position is the earliest of those still
/// reading, so the fraction never runs ahead of what is captured.
final class ProgressBoard: Sendable {
    private struct Entry {
        var progress: BindingProgress
        /// Machines still working on it → the position each last reported (nil: none yet).
        var parts: [Int: Millis?] = [:]
    }

    private let state: Mutex<(entries: [String: Entry], failures: [String: String], halt: CaptureError?)>
    private let observer: @Sendable (BindingProgress) -> Void
    private let start: Date
    private let now: @Sendable () -> Date

    init(
        bindings: [CaptureBinding], start: Date, now: @escaping @Sendable () -> Date,
        observer: @escaping @Sendable (BindingProgress) -> Void
    ) {
        var entries: [String: Entry] = [:]
        for binding in bindings {
            entries[binding.collection] = Entry(
                progress: BindingProgress(name: binding.collection, resource: binding.resource.rawValue))
        }
        state = Mutex((entries, [:], nil))
        self.observer = observer
        self.start = start
        self.now = now
    }

    /// Machine `part` works on `collection`.
    func add(part: Int, to collection: String) {
        state.withLock { $0.entries[collection]?.parts[part] = .some(nil) }
    }

    /// What the engine made of one step of machine `part`: the owner's page and requests, each
    /// collection's counts as the commit answered them, and the positions the step reported.
    func record(part: Int, owner: String, requests: Int, step: Step, counts: [WriteCounts]) {
        let at = now()
        var changed = Set([owner])
        let updated: [BindingProgress] = state.withLock { all in
            all.entries[owner]?.progress.pages += 1
            all.entries[owner]?.progress.requests += requests
            for (change, count) in zip(step.changes, counts) {
                all.entries[change.collection]?.progress.documents += count.written
                all.entries[change.collection]?.progress.deleted += count.deleted
                changed.insert(change.collection)
            }
            for (collection, position) in step.positions {
                all.entries[collection]?.parts[part] = position
                changed.insert(collection)
            }
            return changed.sorted().compactMap { collection in
                guard var entry = all.entries[collection] else { return nil }
                entry.progress.position = entry.parts.values.compactMap { $0 }.min() ?? entry.progress.position
                entry.progress.fraction = BindingProgress.fraction(position: entry.progress.position, start: start, now: at)
                all.entries[collection] = entry
                return entry.progress
            }
        }
        for progress in updated { observer(progress) }
    }

    /// Machine `part` read to the end: a collection none other works on is done.
    func finish(part: Int, collections: [String]) {
        for collection in collections {
            update(collection) { entry in
                entry.parts[part] = nil
                guard entry.parts.isEmpty, entry.progress.state == .running else { return }
                entry.progress.state = .done
                entry.progress.fraction = 1
            }
        }
    }

    func setState(_ collection: String, _ state: BindingProgress.State) {
        update(collection) { $0.progress.state = state }
    }

    func fail(_ collection: String, _ why: String) {
        state.withLock { $0.failures[collection] = why }
        update(collection) {
            $0.progress.state = .failed
            $0.progress.error = why
        }
    }

    var failures: [String: String] { state.withLock { $0.failures } }

    /// An error that stops every binding (a token Front refuses). Leaving the task group cancels
    /// the others too, but only once the group's task runs again; a binding whose task starts
    /// before that must not send a request the limiter, told by the refusal's headers that the
    /// budget is ample, would let through at once.
    func halt(_ error: CaptureError) { state.withLock { $0.halt = $0.halt ?? error } }
    var halted: CaptureError? { state.withLock { $0.halt } }

    var all: [BindingProgress] {
        state.withLock { $0.entries.values.map(\.progress) }.sorted { $0.name < $1.name }
    }

    private func update(_ collection: String, _ change: (inout Entry) -> Void) {
        let updated: BindingProgress? = state.withLock { all in
            guard var entry = all.entries[collection] else { return nil }
            change(&entry)
            all.entries[collection] = entry
            return entry.progress
        }
        if let updated { observer(updated) }
    }
}
