import Foundation
import Jobs
import Store
import SwitchboardTesting
import Testing

/// The queue in SQLite, with two `Store` instances on one file standing in for two processes.
@Suite("The job queue in SQLite")
struct JobQueueTests {
    let lease = Duration.seconds(10)

    private func withStores(_ body: (Store, Store, CaptureRecord) throws -> Void) throws {
        let folder = try makeTemporaryFolder("jobs")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("db.sqlite").path
        let one = try Store(path: path)
        let two = try Store(path: path)
        let capture = try one.insertCapture(
            NewCapture(name: "Acme", prefix: "acme", sealedToken: Data([1, 2, 3]), tokenHint: "wxyz", startDate: nil,
                       resources: ["tags", "channels"]))
        try body(one, two, capture)
    }

    @Test("a commit fenced by a lost lease writes nothing; the current holder's commit lands")
    func fencedCommits() async throws {
        let folder = try makeTemporaryFolder("jobs")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try Store(path: folder.appendingPathComponent("db.sqlite").path)
        let capture = try store.insertCapture(
            NewCapture(name: "Acme", prefix: "acme", sealedToken: Data([1]), tokenHint: "wxyz", startDate: nil, resources: ["tags"]))
        _ = try store.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
        let start = Date()
        let stale = try #require(try store.claimJob(token: "stale", leaseFor: .seconds(1), at: start))
        // The stale runner paused past its lease; another one took the job.
        let fresh = try #require(try store.claimJob(token: "fresh", leaseFor: .seconds(10), at: start + 2))
        #expect(fresh.id == stale.id)
        let changes = CollectionChanges(
            collection: "acme/tags", upserts: [DocumentWrite(key: "tag_1", json: Data("{}".utf8))],
            checkpoints: [CheckpointWrite(name: "acme/tags", state: Data("1".utf8))])
        await #expect {
            try await store.commit(changes, fence: LeaseFence(jobID: stale.id, token: "stale"))
        } throws: { error in
            (error as? StoreError)?.leaseLost == true
        }
        #expect(try store.checkpoint(named: "acme/tags") == nil)
        #expect(try store.document(in: "acme/tags", key: "tag_1") == nil)
        let counts = try await store.commit(changes, fence: LeaseFence(jobID: fresh.id, token: "fresh"))
        #expect(counts.written == 1)
    }

    @Test("a capture has at most one queued or running job; a second request gets the first")
    func oneActivePerCapture() throws {
        try withStores { one, two, capture in
            guard case .queued(let first) = try one.enqueueJob(captureID: capture.id, requestedBy: "ann", bindings: []) else {
                Issue.record("not queued"); return
            }
            #expect(first.requestedBy == "ann")
            #expect(try two.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: []) == .alreadyActive(first))
            let claimed = try #require(try two.claimJob(token: "t", leaseFor: lease))
            guard case .alreadyActive(let running) = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
            else { Issue.record("a running job did not block a second one"); return }
            #expect(running.id == claimed.id && running.life.state == .running)
            try two.finishJob(jobID: claimed.id, token: "t", outcome: .succeeded, bindings: nil)
            guard case .queued = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: []) else {
                Issue.record("a finished job still blocked the capture"); return
            }
        }
    }

    @Test("two stores on one file claim a job once; the loser gets nothing")
    func claimOnce() throws {
        try withStores { one, two, capture in
            _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
            let now = Date()
            let a = try one.claimJob(token: "a", leaseFor: lease, at: now)
            let b = try two.claimJob(token: "b", leaseFor: lease, at: now)
            #expect(a != nil)
            #expect(b == nil)
            #expect(try two.job(id: a!.id)?.life.lease?.token == "a")
        }
    }

    @Test("claims from many threads on two stores hand each job to exactly one claimer")
    func concurrentClaims() throws {
        try withStores { one, two, _ in
            var captures: [CaptureRecord] = []
            for index in 0..<12 {
                captures.append(try one.insertCapture(
                    NewCapture(name: "c\(index)", prefix: "c\(index)", sealedToken: Data(), tokenHint: "", startDate: nil,
                               resources: ["tags"])))
            }
            for capture in captures { _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: []) }
            let claims = Shared<[Int64]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { index in
                let store = index.isMultiple(of: 2) ? one : two
                while let job = try? store.claimJob(token: "t\(index)", leaseFor: .seconds(10)) {
                    claims.withLock { $0.append(job.id) }
                }
            }
            let ids = claims.withLock { $0 }
            #expect(ids.count == 12)
            #expect(Set(ids).count == 12)
        }
    }

    @Test("a lapsed lease is taken over; the old holder's heartbeat and finish are refused")
    func takeover() throws {
        try withStores { one, two, capture in
            _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
            let t0 = Date()
            let job = try #require(try one.claimJob(token: "a", leaseFor: lease, at: t0))
            #expect(try two.claimJob(token: "b", leaseFor: lease, at: t0 + 5) == nil)
            #expect(try one.heartbeat(jobID: job.id, token: "a", leaseFor: lease, bindings: nil, at: t0 + 8) == .keepGoing)
            #expect(try two.claimJob(token: "b", leaseFor: lease, at: t0 + 15) == nil)  // renewed to t0+18
            let taken = try #require(try two.claimJob(token: "b", leaseFor: lease, at: t0 + 18.5))
            #expect(taken.id == job.id && taken.life.attempts == 2)
            #expect(try one.heartbeat(jobID: job.id, token: "a", leaseFor: lease, bindings: nil, at: t0 + 19) == .lost)
            #expect(try one.finishJob(jobID: job.id, token: "a", outcome: .succeeded, bindings: nil, at: t0 + 19) == false)
            #expect(try two.finishJob(jobID: job.id, token: "b", outcome: .succeeded, bindings: nil, at: t0 + 20))
            #expect(try one.job(id: job.id)?.life.state == .succeeded)
        }
    }

    @Test("cancel: a queued job ends at once; a running one is told at its next heartbeat")
    func cancel() throws {
        try withStores { one, two, capture in
            guard case .queued(let queued) = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: []) else {
                Issue.record("not queued"); return
            }
            #expect(try two.requestCancel(jobID: queued.id)?.1 == .cancelled)
            #expect(try one.claimJob(token: "a", leaseFor: lease) == nil)

            _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
            let running = try #require(try one.claimJob(token: "a", leaseFor: lease))
            #expect(try two.requestCancel(jobID: running.id)?.1 == .requested)
            #expect(try one.heartbeat(jobID: running.id, token: "a", leaseFor: lease, bindings: nil) == .cancelRequested)
            try one.finishJob(jobID: running.id, token: "a", outcome: .cancelled, bindings: nil)
            #expect(try two.job(id: running.id)?.life.state == .cancelled)
            #expect(try two.requestCancel(jobID: 9999) == nil)
        }
    }

    @Test("progress saved with a heartbeat is read back; lists filter by capture and state, newest first")
    func progressAndLists() throws {
        try withStores { one, two, capture in
            _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
            let job = try #require(try one.claimJob(token: "a", leaseFor: lease))
            let bindings = [JobBindingProgress(name: "acme/tags", resource: "tags", pages: 2, documents: 30, requests: 2)]
            _ = try one.heartbeat(jobID: job.id, token: "a", leaseFor: lease, bindings: bindings)
            #expect(try two.job(id: job.id)?.bindings == bindings)
            #expect(try two.job(id: job.id)?.requests == 2)
            try one.finishJob(jobID: job.id, token: "a", outcome: .failed("boom"), bindings: nil)
            _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
            #expect(try two.jobs(JobFilter(captureID: capture.id)).map(\.life.state) == [.queued, .failed])
            #expect(try two.jobs(JobFilter(states: [.failed])).map(\.id) == [job.id])
            #expect(try two.jobs(JobFilter(captureID: capture.id + 1)).isEmpty)
            #expect(try two.jobCounts()[.failed] == 1)
            #expect(try two.latestJobs()[capture.id]?.life.state == .queued)
        }
    }
}

final class Shared<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
