import Foundation
import GRDB
import Store
import Testing

/// What only the SQLite backend has: app migrations appended to its own, and reopening a file.
/// Everything a backend promises is in the contract suite (`Contract/`).
@Suite("The SQLite store") struct SQLiteStoreTests {
    /// A fresh database file in its own temporary folder.
    func temporaryStore(appending: (inout DatabaseMigrator) -> Void = { _ in }) throws -> SQLiteStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        return try SQLiteStore(path: folder.appendingPathComponent("db.sqlite").path, appending: appending)
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

    @Test func reopeningRunsNoMigrationTwice() async throws {
        let store = try temporaryStore()
        try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a")]))
        let again = try SQLiteStore(path: store.path)
        #expect(try again.collections().map(\.documents) == [1])
    }
}
