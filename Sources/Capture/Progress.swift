import Foundation
import Synchronization

/// How far one binding of a running capture has got: what a progress bar or a log line shows.
public struct BindingProgress: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case waiting, running, done, cancelled
        case failed(String)
    }

    public var resource: FrontResource
    public var collection: String
    public var state: State = .waiting
    /// Pages read (a search window's first page included).
    public var pages = 0
    /// HTTP requests made for this binding, retries included. The shared events feed counts
    /// under `events` when that is bound, else under `conversations`.
    public var requests = 0
    /// Documents actually changed in the store (unchanged re-reads are not counted).
    public var written = 0
    public var deleted = 0
    /// Where the binding stands, in words: a cursor time, a search window, a page count.
    public var cursor: String?

    public init(resource: FrontResource, collection: String) {
        self.resource = resource
        self.collection = collection
    }

    /// One plain line, as the CLI prints it when stderr is not a terminal.
    public var line: String {
        var text = "\(collection) (\(resource.rawValue)): \(stateWord), \(pages) pages, \(requests) requests, \(written) written"
        if deleted > 0 { text += ", \(deleted) deleted" }
        if let cursor { text += ", at \(cursor)" }
        return text
    }

    private var stateWord: String {
        switch state {
        case .waiting: "waiting"
        case .running: "running"
        case .done: "done"
        case .cancelled: "cancelled"
        case .failed(let why): "failed: \(why)"
        }
    }
}

/// Every binding's progress behind one lock; each change is passed on to the observer at once.
final class ProgressBoard: Sendable {
    private let state: Mutex<[String: BindingProgress]>
    /// Tasks still working per collection (conversations has two: windows and the event feed),
    /// and why the failed ones failed.
    private let bookkeeping = Mutex<(parts: [String: Int], failures: [String: String])>(([:], [:]))
    private let observer: @Sendable (BindingProgress) -> Void

    init(bindings: [CaptureBinding], observer: @escaping @Sendable (BindingProgress) -> Void) {
        var initial: [String: BindingProgress] = [:]
        for binding in bindings {
            initial[binding.collection] = BindingProgress(resource: binding.resource, collection: binding.collection)
        }
        state = Mutex(initial)
        self.observer = observer
    }

    func update(_ collection: String, _ change: (inout BindingProgress) -> Void) {
        let updated: BindingProgress? = state.withLock { all in
            guard var progress = all[collection] else { return nil }
            change(&progress)
            all[collection] = progress
            return progress
        }
        if let updated { observer(updated) }
    }

    func addPart(_ collection: String) {
        bookkeeping.withLock { $0.parts[collection, default: 0] += 1 }
    }

    /// One task of the collection finished; true when it was the last.
    func finishPart(_ collection: String) -> Bool {
        bookkeeping.withLock { book in
            book.parts[collection, default: 1] -= 1
            return book.parts[collection] == 0
        }
    }

    func fail(_ collection: String, _ why: String) {
        bookkeeping.withLock { $0.failures[collection] = why }
        update(collection) { $0.state = .failed(why) }
    }

    var failures: [String: String] { bookkeeping.withLock { $0.failures } }

    var all: [BindingProgress] {
        state.withLock { Array($0.values) }.sorted { $0.collection < $1.collection }
    }
}
