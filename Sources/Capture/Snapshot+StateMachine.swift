import Foundation
import Front
import Store

/// A snapshot binding (channels, inboxes, tags, teammates, teams): the whole list, page after
/// page, then every id not listed is marked deleted (`SnapshotSweep`).
public struct SnapshotStateMachine: BindingStateMachine {
    public let list: FrontList
    public private(set) var sweep: SnapshotSweep
    /// When the run began: recorded in the checkpoint of a completed sweep.
    private let startedAt: Millis
    private var pending: FrontRequest?

    public init(list: FrontList, collection: String, startedAt: Millis) {
        self.list = list
        sweep = SnapshotSweep(collection: collection)
        self.startedAt = startedAt
        pending = .list(list)
    }

    public var owner: String { sweep.collection }
    public var collections: [String] { [sweep.collection] }

    public func nextRequest() -> FrontRequest? { pending }

    public mutating func received(_ page: FrontPage) throws(CaptureError) -> Step {
        pending = page.nextRequest
        let changes =
            pending == nil ? try sweep.lastPage(page.results, finishedAt: startedAt) : sweep.page(page.results)
        return Step(changes: [changes])
    }
}
