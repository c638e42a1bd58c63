import Foundation
import Model
import Store
import Testing

extension StoreContract {
    /// `DocumentStore`: what the capture engine's resume logic stands on.
    @Suite("Documents and checkpoints") struct Documents {
        @Test("documents and their checkpoint land together", arguments: Backend.all)
        func documentsAndTheirCheckpointLandTogether(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let counts = try await store.commit(
                    CollectionChanges(
                        collection: "acme/tags", upserts: [doc("tag_1"), doc("tag_2")],
                        checkpoints: [checkpoint("acme/tags", "1")]))
                #expect(counts == WriteCounts(written: 2))
                #expect(try store.checkpoint(named: "acme/tags") == Data("1".utf8))
                #expect(try sameJSON(store.document(in: "acme/tags", key: "tag_2")?.json, #"{"id":"tag_2"}"#))
            }
        }

        @Test("one commit covers several collections, each counted; a checkpoint is replaced by the next", arguments: Backend.all)
        func severalCollectionsAndCheckpointReplacement(_ backend: Backend) async throws {
            try await backend.withStore { store in
                #expect(try store.checkpoint(named: "c") == nil)
                let counts = try await store.commit([
                    CollectionChanges(collection: "c", upserts: [doc("a"), doc("b")], checkpoints: [checkpoint("c", "1")]),
                    CollectionChanges(collection: "d", upserts: [doc("x")], checkpoints: [checkpoint("d", "1")]),
                ])
                #expect(counts == [WriteCounts(written: 2), WriteCounts(written: 1)])
                try await store.commit(CollectionChanges(collection: "c", checkpoints: [checkpoint("c", "2")]))
                #expect(try store.checkpoint(named: "c") == Data("2".utf8))
                #expect(try store.checkpoint(named: "d") == Data("1".utf8))
            }
        }

        @Test("unchanged documents are neither rewritten nor counted", arguments: Backend.all)
        func unchangedDocumentsAreNeitherRewrittenNorCounted(_ backend: Backend) async throws {
            try await backend.withStore { store in
                try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", time: 1)]), at: t0)
                let again = try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", time: 1)]), at: t0 + 10)
                #expect(again == WriteCounts())
                #expect(try store.document(in: "c", key: "a")?.updatedAt == t0)
            }
        }

        @Test("an older version never replaces a newer one", arguments: Backend.all)
        func anOlderVersionNeverReplacesANewerOne(_ backend: Backend) async throws {
            try await backend.withStore { store in
                try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", #","v":2"#, time: 20)]))
                let stale = try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", #","v":1"#, time: 10)]))
                #expect(stale.written == 0)
                let newer = try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a", #","v":3"#, time: 30)]))
                #expect(newer.written == 1)
                #expect(try sameJSON(store.document(in: "c", key: "a")?.json, #"{"id":"a","v":3}"#))
            }
        }

        @Test("ids missing from a snapshot are marked deleted, and come back if seen again", arguments: Backend.all)
        func idsMissingFromASnapshotAreMarkedDeletedAndComeBackIfSeenAgain(_ backend: Backend) async throws {
            try await backend.withStore { store in
                try await store.commit(CollectionChanges(collection: "c", upserts: [doc("a"), doc("b"), doc("c")]))
                let sweep = try await store.commit(
                    CollectionChanges(collection: "c", upserts: [doc("a")], deletions: .allExcept(["a", "c"])))
                #expect(sweep == WriteCounts(written: 0, deleted: 1))
                #expect(try store.document(in: "c", key: "b")?.deleted == true)
                let back = try await store.commit(CollectionChanges(collection: "c", upserts: [doc("b")]))
                #expect(back.written == 1)
                #expect(try store.document(in: "c", key: "b")?.deleted == false)
                try await store.commit(CollectionChanges(collection: "c", deletions: .keys(["c"])))
                let summary = try #require(try store.collections().first)
                #expect(summary.name == "c" && summary.documents == 2 && summary.deleted == 1)
            }
        }

        @Test("export streams the live documents in key order", arguments: Backend.all)
        func exportStreamsLiveDocumentsInKeyOrder(_ backend: Backend) async throws {
            try await backend.withStore { store in
                try await store.commit(
                    CollectionChanges(collection: "c", upserts: (0..<250).reversed().map { doc(String(format: "k%03d", $0)) }))
                try await store.commit(CollectionChanges(collection: "c", deletions: .keys(["k007"])))
                try await store.commit(CollectionChanges(collection: "other", upserts: [doc("z")]))
                var keys: [String] = []
                try store.forEachDocument(in: "c") { keys.append($0.key) }
                #expect(keys.count == 249)
                #expect(keys == keys.sorted())
                #expect(!keys.contains("k007"))
            }
        }

        @Test(
            "export in small batches loses and repeats no key across batch ends; deleted ones on request", arguments: Backend.all)
        func exportInBatches(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let all = (0..<50).map { String(format: "k%02d", $0) }
                try await store.commit(CollectionChanges(collection: "c", upserts: all.shuffled().map { doc($0) }))
                try await store.commit(CollectionChanges(collection: "c", deletions: .keys(["k06", "k07"])))
                var live: [String] = []
                try store.forEachDocument(in: "c", includingDeleted: false, batch: 7) { live.append($0.key) }
                #expect(live == all.filter { $0 != "k06" && $0 != "k07" })
                var every: [StoredDocument] = []
                try store.forEachDocument(in: "c", includingDeleted: true, batch: 7) { every.append($0) }
                #expect(every.map(\.key) == all)
                #expect(every.filter(\.deleted).map(\.key) == ["k06", "k07"])
                var seen = 0
                #expect(throws: StoreError.self) {
                    try store.forEachDocument(in: "c", includingDeleted: false, batch: 7) { _ in
                        seen += 1
                        if seen == 3 { throw CancellationError() }
                    }
                }
                #expect(seen == 3)
            }
        }

        @Test("documents page newest first", arguments: Backend.all)
        func documentsPageNewestFirst(_ backend: Backend) async throws {
            try await backend.withStore { store in
                for (index, key) in ["a", "b", "c", "d", "e"].enumerated() {
                    try await store.commit(CollectionChanges(collection: "c", upserts: [doc(key)]), at: t0 + Double(index))
                }
                let first = try store.documents(in: "c", limit: 2)
                #expect(first.map(\.key) == ["e", "d"])
                let second = try store.documents(in: "c", limit: 2, after: first.last)
                #expect(second.map(\.key) == ["c", "b"])
            }
        }

        @Test("a commit fenced by a lost lease writes nothing; the current holder's commit lands", arguments: Backend.all)
        func fencedCommits(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let capture = try store.insertCapture(newCapture("Acme"))
                _ = try store.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
                let stale = try #require(try store.claimJob(token: "stale", leaseFor: .seconds(1), at: t0))
                // The stale runner paused past its lease; another one took the job.
                let fresh = try #require(try store.claimJob(token: "fresh", leaseFor: .seconds(10), at: t0 + 2))
                #expect(fresh.id == stale.id)
                let changes = CollectionChanges(
                    collection: "acme/tags", upserts: [DocumentWrite(key: "tag_1", json: Data("{}".utf8))],
                    checkpoints: [CheckpointWrite(name: "acme/tags", state: Data("1".utf8))])
                let error = await #expect(throws: StoreError.self) {
                    try await store.commit(changes, fence: LeaseFence(jobID: stale.id, token: "stale"))
                }
                #expect(error?.leaseLost == true)
                #expect(try store.checkpoint(named: "acme/tags") == nil)
                #expect(try store.document(in: "acme/tags", key: "tag_1") == nil)
                let counts = try await store.commit(changes, fence: LeaseFence(jobID: fresh.id, token: "fresh"))
                #expect(counts.written == 1)
            }
        }

        @Test("a fence on a job that ended, or on no job, writes nothing", arguments: Backend.all)
        func fenceOnAnEndedJob(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let capture = try store.insertCapture(newCapture("Acme"))
                _ = try store.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [], at: t0)
                let job = try #require(try store.claimJob(token: "a", leaseFor: .seconds(10), at: t0))
                try store.finishJob(jobID: job.id, token: "a", outcome: .succeeded, bindings: nil, at: t0 + 1)
                for fence in [LeaseFence(jobID: job.id, token: "a"), LeaseFence(jobID: job.id + 100, token: "a")] {
                    let error = await #expect(throws: StoreError.self) {
                        try await store.commit(
                            CollectionChanges(collection: "c", upserts: [doc("x")], checkpoints: [checkpoint("c", "1")]),
                            fence: fence)
                    }
                    #expect(error?.leaseLost == true)
                }
                #expect(try store.document(in: "c", key: "x") == nil)
                #expect(try store.checkpoint(named: "c") == nil)
            }
        }
    }
}
