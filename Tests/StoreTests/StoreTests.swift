import Foundation
import GRDB
import SwitchboardTesting
import Testing

@testable import Store

/// A fresh database file in its own temporary folder.
func temporaryStore(appending: (inout DatabaseMigrator) -> Void = { _ in }) throws -> Store {
    try Store(path: makeTemporaryFolder("store-tests").appendingPathComponent("db.sqlite").path, appending: appending)
}

func doc(_ key: String, _ body: String = "", time: Double? = nil) -> DocumentWrite {
    DocumentWrite(key: key, json: Data(#"{"id":"\#(key)"\#(body)}"#.utf8), sourceTime: time)
}

func checkpoint(_ name: String, _ value: String) -> CheckpointWrite {
    CheckpointWrite(name: name, state: Data(value.utf8))
}

@Suite struct StoreTests {
    @Test func documentsAndTheirCheckpointLandTogether() async throws {
        let store = try temporaryStore()
        let counts = try await store.commit(
            CollectionChanges(collection: "acme/tags", upserts: [doc("tag_1"), doc("tag_2")], checkpoints: [checkpoint("acme/tags", "1")]))
        #expect(counts == WriteCounts(written: 2))
        #expect(try store.checkpoint(named: "acme/tags") == Data("1".utf8))
        #expect(try store.document(in: "acme/tags", key: "tag_2")?.json == Data(#"{"id":"tag_2"}"#.utf8))
    }

    @Test func aFailedCommitLeavesNeitherDocumentsNorCheckpoint() async throws {
        // The app's migrations run after the store's; this one makes one key impossible to write.
        let store = try temporaryStore { migrator in
            migrator.registerMigration("test-trap") { db in
                try db.execute(
                    sql: """
                        CREATE TRIGGER trap BEFORE INSERT ON document WHEN NEW.key = 'boom'
                        BEGIN SELECT RAISE(ABORT, 'trapped'); END
                        """)
            }
        }
        await #expect(throws: StoreError.self) {
            try await store.commit([
                CollectionChanges(collection: "c", upserts: [doc("ok")], checkpoints: [checkpoint("c", "2")]),
                CollectionChanges(collection: "d", upserts: [doc("boom")]),
            ])
        }
        #expect(try store.document(in: "c", key: "ok") == nil)
        #expect(try store.checkpoint(named: "c") == nil)
    }

    @Test func unchangedDocumentsAreNeitherRewrittenNorCounted() async throws {
        let store = try temporaryStore()
        try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", time: 1)]), at: Date(timeIntervalSince1970: 10))
        let again = try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", time: 1)]), at: Date(timeIntervalSince1970: 20))
        #expect(again == WriteCounts())
        #expect(try store.document(in: "c", key: "a")?.updatedAt == Date(timeIntervalSince1970: 10))
    }

    @Test func anOlderVersionNeverReplacesANewerOne() async throws {
        let store = try temporaryStore()
        try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", #","v":2"#, time: 20)]))
        let stale = try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", #","v":1"#, time: 10)]))
        #expect(stale.written == 0)
        let newer = try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", #","v":3"#, time: 30)]))
        #expect(newer.written == 1)
        #expect(try store.document(in: "c", key: "a")?.json == Data(#"{"id":"a","v":3}"#.utf8))
    }

    @Test func idsMissingFromASnapshotAreMarkedDeletedAndComeBackIfSeenAgain() async throws {
        let store = try temporaryStore()
        try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a"), doc("b"), doc("c")]))
        let sweep = try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a")], deletions: .allExcept(["a", "c"])))
        #expect(sweep == WriteCounts(written: 0, deleted: 1))
        #expect(try store.document(in: "c", key: "b")?.deleted == true)
        let back = try await store.commit(CollectionChanges(collection: "c", upserts: [doc("b")]))
        #expect(back.written == 1)
        #expect(try store.document(in: "c", key: "b")?.deleted == false)
        try await store.commit(CollectionChanges(collection: "c", deletions: .keys(["c"])))
        let summary = try #require(try store.collections().first)
        #expect(summary.name == "c" && summary.documents == 2 && summary.deleted == 1)
    }

    @Test func exportStreamsLiveDocumentsInKeyOrder() async throws {
        let store = try temporaryStore()
        try await store.commit(CollectionChanges(collection: "c", upserts: (0..<250).reversed().map { doc(String(format: "k%03d", $0)) }))
        try await store.commit(CollectionChanges(collection: "c", deletions: .keys(["k007"])))
        try await store.commit(CollectionChanges(collection: "other", upserts: [doc("z")]))
        var keys: [String] = []
        try store.forEachDocument(in: "c") { keys.append($0.key) }
        #expect(keys.count == 249)
        #expect(keys == keys.sorted())
        #expect(!keys.contains("k007"))
    }

    @Test func documentsPageNewestFirst() async throws {
        let store = try temporaryStore()
        for (index, key) in ["a", "b", "c", "d", "e"].enumerated() {
            try await store.commit(CollectionChanges(collection: "c", upserts: [doc(key)]), at: Date(timeIntervalSince1970: Double(index)))
        }
        let first = try store.documents(in: "c", limit: 2)
        #expect(first.map(\.key) == ["e", "d"])
        let second = try store.documents(in: "c", limit: 2, after: first.last)
        #expect(second.map(\.key) == ["c", "b"])
    }

    @Test func reopeningRunsNoMigrationTwice() async throws {
        let store = try temporaryStore()
        try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a")]))
        let again = try Store(path: store.path)
        #expect(try again.collections().map(\.documents) == [1])
    }
}
