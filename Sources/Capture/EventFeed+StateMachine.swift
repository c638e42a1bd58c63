import Foundation
import Front
import Store

/// The one `/events` feed (`EventFeed`): the events binding's documents and, riding on the same
/// pages at no extra request, the conversations the events embed. Each keeps its own cursor and
/// checkpoint, both committed with the page that moved them.
public struct EventFeedStateMachine: BindingStateMachine {
    /// The events collection, when events are bound.
    public let events: String?
    /// The conversations collection, when conversations follow the feed.
    public let conversations: String?
    public private(set) var feed: EventFeed
    private var pending: FrontRequest?
    public let owner: String

    /// nil when neither is given: there is no feed to read.
    public init?(
        events: (collection: String, cursor: IncrementalCursor)?, conversations: (collection: String, follow: ConversationFollow)?
    ) {
        guard let owner = events?.collection ?? conversations?.collection else { return nil }
        self.owner = owner
        self.events = events?.collection
        self.conversations = conversations?.collection
        feed = EventFeed(events: events?.cursor, conversations: conversations?.follow)
        pending = feed.after.map { .events(after: $0) }
    }

    /// The checkpoint that holds how far conversations have followed events.
    public static func followName(_ conversations: String) -> String { "\(conversations)#follow" }

    public var collections: [String] { [events, conversations].compactMap { $0 } }

    public func nextRequest() -> FrontRequest? { pending }

    public mutating func received(_ page: FrontPage) throws(CaptureError) -> Step {
        pending = page.nextRequest
        let (eventWrites, conversationWrites) = feed.take(page.results)
        var step = Step(changes: [])
        if let events, let cursor = feed.events {
            step.changes.append(
                CollectionChanges(
                    collection: events, upserts: eventWrites, checkpoints: [try Checkpoint.write(events, cursor)]))
            step.positions[events] = cursor.cursor
        }
        if let conversations, let follow = feed.conversations {
            step.changes.append(
                CollectionChanges(
                    collection: conversations, upserts: conversationWrites,
                    checkpoints: [try Checkpoint.write(Self.followName(conversations), follow)]))
            step.positions[conversations] = follow.events.cursor
        }
        return step
    }
}
