import Foundation
import Front
import Store
import Testing

@testable import Capture

/// The binding state machines fed pages by hand: no socket, no store, no clock. Each test reads
/// like a run: the requests asked for, and what each page would commit.
let nextURL = URL(string: "https://acme.api.frontapp.com/x?page_token=2")!

func page(_ documents: [FrontDocument], next: Bool = false, total: Int? = nil) -> FrontPage {
    FrontPage(results: documents, total: total, nextRequest: next ? .next(nextURL) : nil)
}

func decode<T: Decodable>(_ type: T.Type, _ step: Step, _ name: String) throws -> T? {
    let write = step.changes.flatMap(\.checkpoints).first { $0.name == name }
    return try write.map { try JSONDecoder().decode(T.self, from: $0.state) }
}

@Suite struct SnapshotStateMachineTests {
    @Test func readsTheWholeListThenMarksTheUnlistedDeletedOnce() throws {
        var machine = SnapshotStateMachine(list: .tags, collection: "acme/tags", startedAt: 7)
        #expect(machine.nextRequest() == .list(.tags))
        let first = try machine.received(page([document("tag_2"), document("tag_1")], next: true))
        #expect(first.changes[0].deletions == .none && first.changes[0].checkpoints.isEmpty)
        #expect(first.changes[0].upserts.map(\.key) == ["tag_2", "tag_1"])
        #expect(machine.nextRequest() == .next(nextURL))

        // A tag listed on both pages (the list moved under us) is written once.
        let last = try machine.received(page([document("tag_1"), document("tag_3")]))
        #expect(last.changes[0].upserts.map(\.key) == ["tag_3"])
        #expect(last.changes[0].deletions == .allExcept(["tag_1", "tag_2", "tag_3"]))
        #expect(try decode(SnapshotCheckpoint.self, last, "acme/tags") == SnapshotCheckpoint(completedAt: 7, count: 3))
        #expect(last.positions.isEmpty)
        #expect(machine.nextRequest() == nil)
    }
}

@Suite struct ContactsStateMachineTests {
    @Test func asksFromTheCursorAndCommitsEachPageWithTheCursorThatCoversIt() throws {
        var machine = ContactsStateMachine(collection: "acme/contacts", cursor: IncrementalCursor(from: 1_000_000))
        #expect(machine.nextRequest() == .contacts(updatedAfter: 999_999))

        let first = try machine.received(page([document("crd_1", at: 1000), document("crd_2", at: 1001)], next: true))
        #expect(first.changes[0].upserts.map(\.key) == ["crd_1", "crd_2"])
        #expect(first.positions == ["acme/contacts": 1_001_000])
        #expect(try decode(IncrementalCursor.self, first, "acme/contacts") == machine.cursor)
        #expect(machine.nextRequest() == .next(nextURL))

        // The edge document again, beside one at the same millisecond: only the new one.
        let second = try machine.received(page([document("crd_2", at: 1001), document("crd_3", at: 1001)]))
        #expect(second.changes[0].upserts.map(\.key) == ["crd_3"])
        #expect(machine.nextRequest() == nil)

        // The next run resumes from the checkpoint: from just before the last millisecond.
        let resumed = try #require(try decode(IncrementalCursor.self, second, "acme/contacts"))
        #expect(
            ContactsStateMachine(collection: "acme/contacts", cursor: resumed).nextRequest() == .contacts(updatedAfter: 1_000_999)
        )
    }
}

@Suite struct EventFeedStateMachineTests {
    let old = FrontDocument(id: "cnv_1", json: Data(#"{"id":"cnv_1","status":"open"}"#.utf8), updatedAt: 10)
    let new = FrontDocument(id: "cnv_1", json: Data(#"{"id":"cnv_1","status":"archived"}"#.utf8), updatedAt: 20)

    @Test func oneRequestFeedsEventsAndTheConversationsTheyEmbedEachWithItsCheckpoint() throws {
        var machine = try #require(
            EventFeedStateMachine(
                events: ("acme/events", IncrementalCursor(from: 5_000)),
                conversations: ("acme/conversations", ConversationFollow(since: 5_000))))
        #expect(machine.owner == "acme/events" && machine.collections == ["acme/events", "acme/conversations"])
        #expect(machine.nextRequest() == .events(after: 4_999))

        let step = try machine.received(
            page([document("evt_1", at: 10, conversation: old), document("evt_2", at: 20, conversation: new)], next: true))
        #expect(step.changes.map(\.collection) == ["acme/events", "acme/conversations"])
        #expect(step.changes[0].upserts.map(\.key) == ["evt_1", "evt_2"])
        // The later event's copy of the conversation is the one written.
        #expect(step.changes[1].upserts.map(\.json) == [new.json])
        #expect(step.positions == ["acme/events": 20_000, "acme/conversations": 20_000])
        #expect(try decode(ConversationFollow.self, step, "acme/conversations#follow")?.events.cursor == 20_000)
        #expect(try decode(IncrementalCursor.self, step, "acme/events")?.cursor == 20_000)
        #expect(machine.nextRequest() == .next(nextURL))
        _ = try machine.received(page([]))
        #expect(machine.nextRequest() == nil)
    }

    @Test func theFeedAsksFromTheEarlierCursorAndEachTakesOnlyWhatItHasNotGot() throws {
        var machine = try #require(
            EventFeedStateMachine(
                events: ("acme/events", IncrementalCursor(from: 15_000)),
                conversations: ("acme/conversations", ConversationFollow(since: 5_000))))
        #expect(machine.nextRequest() == .events(after: 4_999))
        let step = try machine.received(
            page([document("evt_1", at: 10, conversation: old), document("evt_2", at: 20, conversation: new)]))
        #expect(step.changes[0].upserts.map(\.key) == ["evt_2"])
        #expect(step.changes[1].upserts.map(\.json) == [new.json])
    }

    @Test func conversationsAloneFollowEventsWithoutWritingThem() throws {
        var machine = try #require(
            EventFeedStateMachine(events: nil, conversations: ("acme/conversations", ConversationFollow(since: 5_000))))
        #expect(machine.owner == "acme/conversations")
        let step = try machine.received(page([document("evt_1", at: 10, conversation: old)]))
        #expect(step.changes.map(\.collection) == ["acme/conversations"])
        #expect(step.changes[0].upserts.map(\.key) == ["cnv_1"])
        #expect(EventFeedStateMachine(events: nil, conversations: nil) == nil)
    }
}

@Suite struct ConversationSearchStateMachineTests {
    @Test func anEmptyWindowCostsOneRequestAndMovesTheCheckpoint() throws {
        var machine = ConversationSearchStateMachine(
            collection: "acme/conversations", windows: ConversationWindows(from: 0, through: 9_999))
        #expect(machine.nextRequest() == .conversationSearch(after: 0, before: 9_999))
        let step = try machine.received(page([], total: 0))
        #expect(try decode(ConversationWindows.self, step, "acme/conversations")?.isDone == true)
        #expect(step.positions == ["acme/conversations": 9_999])
        #expect(machine.nextRequest() == nil)
    }

    @Test func aWindowOfSeveralPagesMovesItsCheckpointOnlyAfterItsLastPage() throws {
        var machine = ConversationSearchStateMachine(
            collection: "acme/conversations", windows: ConversationWindows(from: 0, through: 9_999))
        let first = try machine.received(page([document("cnv_2"), document("cnv_1")], next: true, total: 3))
        #expect(first.changes[0].upserts.map(\.key) == ["cnv_2", "cnv_1"])
        #expect(first.changes[0].checkpoints.isEmpty)
        #expect(machine.nextRequest() == .next(nextURL))
        let last = try machine.received(page([document("cnv_3")]))
        #expect(last.changes[0].upserts.map(\.key) == ["cnv_3"])
        #expect(try decode(ConversationWindows.self, last, "acme/conversations")?.isDone == true)
        #expect(machine.nextRequest() == nil)
    }

    @Test func aTooFullWindowIsAskedAgainSmallerFromTheSameStart() throws {
        var machine = ConversationSearchStateMachine(
            collection: "acme/conversations", windows: ConversationWindows(from: 0, through: 9_999_999))
        let step = try machine.received(page([document("cnv_1")], next: true, total: 10_000))
        #expect(step.changes[0].checkpoints.isEmpty)
        #expect(machine.nextRequest() == .conversationSearch(after: 0, before: 499_999))
    }
}
