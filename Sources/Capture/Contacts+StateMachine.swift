import Foundation
import Front
import Store

/// The contacts binding: `updated_at` ascending from its cursor (`IncrementalCursor`), each page
/// committed with the cursor that covers it.
public struct ContactsStateMachine: BindingStateMachine {
    public let collection: String
    public private(set) var cursor: IncrementalCursor
    private var pending: FrontRequest?

    public init(collection: String, cursor: IncrementalCursor) {
        self.collection = collection
        self.cursor = cursor
        pending = .contacts(updatedAfter: cursor.after)
    }

    public var owner: String { collection }
    public var collections: [String] { [collection] }

    public func nextRequest() -> FrontRequest? { pending }

    public mutating func received(_ page: FrontPage) throws(CaptureError) -> Step {
        pending = page.nextRequest
        let writes = cursor.admit(page.results, time: \.updatedAt).map(\.write)
        let changes = CollectionChanges(
            collection: collection, upserts: writes, checkpoints: [try Checkpoint.write(collection, cursor)])
        return Step(changes: [changes], positions: [collection: cursor.cursor])
    }
}
