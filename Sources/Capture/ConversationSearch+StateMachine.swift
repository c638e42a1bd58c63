import Foundation
import Front
import Store

/// The conversations backfill by search windows (`ConversationWindows`), used only when events
/// are not bound: each window's pages in turn, its checkpoint moved once the window is read
/// (search answers by activity, newest first, so a window half read says nothing about time).
public struct ConversationSearchStateMachine: BindingStateMachine {
    public let collection: String
    public private(set) var windows: ConversationWindows
    /// The window being paged through after its first page said "read the rest".
    private var reading: Reading?

    struct Reading: Sendable, Equatable {
        var window: SearchWindow
        var total: Int
        var seen: Int
        var next: FrontRequest
    }

    public init(collection: String, windows: ConversationWindows) {
        self.collection = collection
        self.windows = windows
    }

    public var owner: String { collection }
    public var collections: [String] { [collection] }
    /// Searched up to here (the first millisecond not yet searched, at most the end).
    public var position: Millis { min(windows.next, windows.end) }

    public func nextRequest() -> FrontRequest? { reading?.next ?? windows.window?.request }

    public mutating func received(_ page: FrontPage) throws(CaptureError) -> Step {
        let writes = page.results.map(\.write)
        var windowDone = false
        if var reading {
            reading.seen += page.results.count
            if let next = page.nextRequest {
                reading.next = next
                self.reading = reading
            } else {
                windows.finished(reading.window, total: max(reading.total, reading.seen))
                self.reading = nil
                windowDone = true
            }
        } else if let window = windows.window {
            let total = page.total ?? page.results.count
            switch windows.firstPage(of: window, total: total, hasNext: page.nextRequest != nil) {
            case .windowDone:
                windowDone = true
            case .readRest:
                if let next = page.nextRequest {
                    reading = Reading(window: window, total: total, seen: page.results.count, next: next)
                }
            case .split:
                break  // its documents are still real ones: written, but the window is asked again, smaller
            }
        }
        let checkpoints = windowDone ? [try Checkpoint.write(collection, windows)] : []
        return Step(
            changes: [CollectionChanges(collection: collection, upserts: writes, checkpoints: checkpoints)],
            positions: [collection: position])
    }
}
