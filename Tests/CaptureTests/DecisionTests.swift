import Foundation
import Front
import Store
import Testing

@testable import Capture

func document(_ id: String, at time: Double? = nil, conversation: FrontDocument? = nil) -> FrontDocument {
    FrontDocument(
        id: id, json: Data(#"{"id":"\#(id)"}"#.utf8), emittedAt: time, updatedAt: time, conversation: conversation)
}

@Suite struct ConfigTests {
    @Test func readsTheConnectorsJSON() throws {
        let config = try CaptureConfig.parse(
            Data(
                #"{"config":{"credentials":{"access_token":"s3cret-x"},"start_date":"2024-11-15T00:00:00Z"},"bindings":[{"resource":{"name":"channels"},"target":"acme/channels"},{"resource":{"name":"events"},"target":"acme/events"}]}"#
                    .utf8))
        #expect(config.startDate == Date(timeIntervalSince1970: 1_731_628_800))
        #expect(
            config.bindings == [
                CaptureBinding(resource: .channels, collection: "acme/channels"),
                CaptureBinding(resource: .events, collection: "acme/events"),
            ])
        #expect(!"\(config)".contains("s3cret"))
    }

    @Test func readsYAMLAndTakesTheTokenFromTheEnvironment() throws {
        let yaml = """
            config:
              start_date: "2024-01-01T10:00:00Z"
            bindings:
              - resource: {name: tags}
                target: acme/tags
            """
        let config = try CaptureConfig.parse(Data(yaml.utf8), tokenOverride: "from-env")
        #expect(config.bindings.map(\.resource) == [.tags])
        #expect(config.startDate == Date(timeIntervalSince1970: 1_704_103_200))
    }

    @Test func theShippedExampleIsValid() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/capture.json")
        let config = try CaptureConfig.parse(Data(contentsOf: url))
        #expect(Set(config.bindings.map(\.resource)) == Set(FrontResource.allCases))
    }

    @Test(arguments: [
        (
            #"{"config":{"credentials":{"access_token":""}},"bindings":[{"resource":{"name":"tags"},"target":"t"}]}"#,
            "config.credentials.access_token"
        ),
        (
            #"{"config":{"credentials":{"access_token":"x"},"start_date":"2024-11-15 00:00:00"},"bindings":[{"resource":{"name":"tags"},"target":"t"}]}"#,
            "config.start_date"
        ),
        (
            #"{"config":{"credentials":{"access_token":"x"},"start_date":"2024-02-30T00:00:00Z"},"bindings":[{"resource":{"name":"tags"},"target":"t"}]}"#,
            "config.start_date"
        ),
        (
            #"{"config":{"credentials":{"access_token":"x"}},"bindings":[{"resource":{"name":"tags"},"target":"t"},{"resource":{"name":"messages"},"target":"m"}]}"#,
            "bindings[1].resource.name"
        ),
        (#"{"config":{"credentials":{"access_token":"x"}},"bindings":[{"resource":{"name":"tags"}}]}"#, "bindings[0].target"),
        (#"{"config":{"credentials":{"access_token":"x"}},"bindings":[]}"#, "bindings"),
        (#"{"config":{"credentials":{"access_token":5}},"bindings":[]}"#, "config.credentials.access_token"),
    ])
    func aBadConfigIsRefusedNamingTheField(json: String, field: String) {
        #expect {
            try CaptureConfig.parse(Data(json.utf8))
        } throws: { error in
            (error as? ConfigError)?.field == field
        }
    }
}

@Suite struct IncrementalCursorTests {
    @Test func asksFromOneMillisecondBeforeTheCursor() {
        #expect(IncrementalCursor(from: 1_731_628_800_000).after == 1_731_628_799_999)
    }

    @Test func aDocumentAtTheEdgeIsNeitherLostNorTakenTwice() {
        var cursor = IncrementalCursor(from: 1_000_000)
        let first = cursor.admit([document("a", at: 1000), document("b", at: 1000.5)], time: \.updatedAt)
        #expect(first.map(\.id) == ["a", "b"])
        // The next ask starts just before 1000.5: b comes again with c, which shares its millisecond.
        #expect(cursor.after == 1_000_499)
        let second = cursor.admit(
            [document("b", at: 1000.5), document("c", at: 1000.5), document("d", at: 1001)], time: \.updatedAt)
        #expect(second.map(\.id) == ["c", "d"])
        #expect(cursor.cursor == 1_001_000 && cursor.keysAtCursor == ["d"])
    }

    @Test func olderDocumentsAreDroppedAndAPageOutOfOrderIsSortedFirst() {
        var cursor = IncrementalCursor(from: 2_000_000)
        let taken = cursor.admit(
            [document("late", at: 2002), document("old", at: 1999), document("early", at: 2001)], time: \.emittedAt)
        #expect(taken.map(\.id) == ["early", "late"])
    }

    @Test func survivesACheckpointRoundTrip() throws {
        var cursor = IncrementalCursor(from: 0)
        _ = cursor.admit([document("a", at: 5), document("b", at: 5)], time: \.updatedAt)
        let decoded = try JSONDecoder().decode(IncrementalCursor.self, from: JSONEncoder().encode(cursor))
        #expect(decoded == cursor)
    }
}

@Suite struct SnapshotSweepTests {
    @Test func keysAreIdsAndTheUnseenAreDeletedOnlyAtTheEnd() throws {
        var sweep = SnapshotSweep(collection: "acme/tags")
        let page = sweep.page([document("tag_2"), document("tag_1")])
        #expect(page.upserts.map(\.key) == ["tag_2", "tag_1"])
        #expect(page.deletions == .none && page.checkpoints.isEmpty)
        let last = try sweep.lastPage([document("tag_3"), document("tag_1")], finishedAt: 42)
        #expect(last.upserts.map(\.key) == ["tag_3"])
        #expect(last.deletions == .allExcept(["tag_1", "tag_2", "tag_3"]))
        #expect(last.checkpoints.map(\.name) == ["acme/tags"])
    }
}

@Suite struct ConversationWindowsTests {
    @Test func anEmptyRangeCostsOneWindow() {
        var windows = ConversationWindows(from: 0, through: 999_999_999)
        let window = windows.window!
        #expect(window == SearchWindow(first: 0, last: 999_999_999))
        #expect(windows.firstPage(of: window, total: 0, hasNext: false) == .windowDone)
        #expect(windows.isDone && windows.window == nil)
    }

    @Test func aTooFullWindowIsSplitBySizeOfWhatCameBack() {
        var windows = ConversationWindows(from: 0, through: 9_999_999)
        let window = windows.window!
        #expect(windows.firstPage(of: window, total: 10_000, hasNext: true) == .split)
        // 10 000 in 10 000 s: aim for 500 → 500 s.
        #expect(windows.window == SearchWindow(first: 0, last: 499_999))
    }

    @Test func emptyTimeIsCrossedWithWiderWindowsAndFullTimeWithNarrowerOnes() {
        var windows = ConversationWindows(from: 0, through: 100_000_000)
        _ = windows.firstPage(of: windows.window!, total: 10_000, hasNext: true)
        let small = windows.window!
        #expect(windows.firstPage(of: small, total: 0, hasNext: false) == .windowDone)
        let wider = windows.window!
        #expect(wider.first == small.last + 1 && wider.span == small.span * 8)
        #expect(windows.firstPage(of: wider, total: 300, hasNext: true) == .readRest)
        windows.finished(wider, total: 1000)
        #expect(windows.window!.first == wider.last + 1)
        #expect(windows.window!.span == wider.span / 2)
    }

    @Test func windowsAreInclusiveAndMeetWithoutOverlap() {
        var windows = ConversationWindows(from: 1_000, through: 5_000)
        var covered: [SearchWindow] = []
        while let window = windows.window {
            covered.append(window)
            windows.finished(window, total: 2_000)  // 4 × target: each next window a quarter
        }
        for (a, b) in zip(covered, covered.dropFirst()) { #expect(b.first == a.last + 1) }
        #expect(covered.first?.first == 1_000 && covered.last?.last == 5_000)
        #expect(covered[0].request == .conversationSearch(after: 1_000, before: 5_000))
    }

    @Test func aLaterFollowStartExtendsTheBackfillOverTheGap() {
        var windows = ConversationWindows(from: 0, through: 10_000)
        windows.finished(windows.window!, total: 0)
        #expect(windows.isDone)
        windows.extend(through: 20_000)
        #expect(windows.window?.first == 10_001 && windows.window?.last == 20_000)
    }
}

@Suite struct EventFeedTests {
    @Test func onePageFeedsEventsAndTheConversationsTheyEmbed() {
        let old = FrontDocument(id: "cnv_1", json: Data(#"{"id":"cnv_1","status":"open"}"#.utf8), updatedAt: 10)
        let new = FrontDocument(id: "cnv_1", json: Data(#"{"id":"cnv_1","status":"archived"}"#.utf8), updatedAt: 20)
        var feed = EventFeed(events: IncrementalCursor(from: 5_000), conversations: ConversationFollow(since: 15_000))
        #expect(feed.after == 4_999)
        let taken = feed.take([
            document("evt_1", at: 10, conversation: old), document("evt_2", at: 20, conversation: new),
        ])
        #expect(taken.events.map(\.key) == ["evt_1", "evt_2"])
        // Only events after the follow start count for conversations, the latest copy wins.
        #expect(taken.conversations.map(\.json) == [new.json])
        #expect(feed.conversations?.events.cursor == 20_000)
    }
}
