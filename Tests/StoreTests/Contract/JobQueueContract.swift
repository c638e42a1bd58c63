import Foundation
import Model
import Store
import Testing

extension StoreContract {
    /// `JobQueue`, with two handles on one database standing in for two runner processes.
    @Suite("The job queue") struct Queue {
        let lease = Duration.seconds(10)

        /// Two handles on a fresh database holding one capture.
        private func withQueue(
            _ backend: Backend, _ body: (any SwitchboardStore, any SwitchboardStore, CaptureRecord) async throws -> Void
        ) async throws {
            try await backend.withStores { one, two in
                let capture = try one.insertCapture(newCapture("Acme", resources: ["tags", "channels"]))
                try await body(one, two, capture)
            }
        }

        @Test("a capture has at most one queued or running job; a second request gets the first", arguments: Backend.all)
        func oneActivePerCapture(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                guard case .queued(let first) = try one.enqueueJob(captureID: capture.id, requestedBy: "ann", bindings: []) else {
                    Issue.record("not queued")
                    return
                }
                #expect(first.requestedBy == "ann")
                #expect(try two.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: []) == .alreadyActive(first))
                let claimed = try #require(try two.claimJob(token: "t", leaseFor: lease))
                guard case .alreadyActive(let running) = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
                else {
                    Issue.record("a running job did not block a second one")
                    return
                }
                #expect(running.id == claimed.id && running.life.state == .running)
                try two.finishJob(jobID: claimed.id, token: "t", outcome: .succeeded, bindings: nil)
                guard case .queued = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: []) else {
                    Issue.record("a finished job still blocked the capture")
                    return
                }
            }
        }

        @Test("a queued job is as enqueued: its capture, who asked, its bindings, queued at that time", arguments: Backend.all)
        func enqueuedJobAsGiven(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                let bindings = [BindingProgress(name: "acme/tags", resource: "tags")]
                guard
                    case .queued(let job) = try one.enqueueJob(
                        captureID: capture.id, requestedBy: "api:ci", bindings: bindings, at: t0)
                else {
                    Issue.record("not queued")
                    return
                }
                #expect(job.captureID == capture.id && job.requestedBy == "api:ci" && job.bindings == bindings)
                #expect(job.life == JobLife(createdAt: t0))
                #expect(try two.job(id: job.id) == job)
                #expect(try two.job(id: job.id + 1) == nil)
            }
        }

        @Test("two stores on one database claim a job once; the loser gets nothing", arguments: Backend.all)
        func claimOnce(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
                let now = Date()
                let a = try one.claimJob(token: "a", leaseFor: lease, at: now)
                let b = try two.claimJob(token: "b", leaseFor: lease, at: now)
                #expect(a != nil)
                #expect(b == nil)
                #expect(try two.job(id: a!.id)?.life.lease?.token == "a")
            }
        }

        @Test("claims from many threads on two stores hand each job to exactly one claimer", arguments: Backend.all)
        func concurrentClaims(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, _ in
                var captures: [CaptureRecord] = []
                for index in 0..<12 {
                    captures.append(try one.insertCapture(newCapture("c\(index)")))
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

        @Test(
            "a lapsed lease is taken over; the old holder's heartbeat, finish and hand-back are refused", arguments: Backend.all)
        func takeover(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
                let job = try #require(try one.claimJob(token: "a", leaseFor: lease, at: t0))
                #expect(try two.claimJob(token: "b", leaseFor: lease, at: t0 + 5) == nil)
                #expect(try one.heartbeat(jobID: job.id, token: "a", leaseFor: lease, bindings: nil, at: t0 + 8) == .keepGoing)
                #expect(try two.claimJob(token: "b", leaseFor: lease, at: t0 + 15) == nil)  // renewed to t0+18
                let taken = try #require(try two.claimJob(token: "b", leaseFor: lease, at: t0 + 18.5))
                #expect(taken.id == job.id && taken.life.attempts == 2)
                #expect(try one.heartbeat(jobID: job.id, token: "a", leaseFor: lease, bindings: nil, at: t0 + 19) == .lost)
                #expect(try one.finishJob(jobID: job.id, token: "a", outcome: .succeeded, bindings: nil, at: t0 + 19) == false)
                #expect(try one.releaseJob(jobID: job.id, token: "a", bindings: nil) == false)
                #expect(try two.finishJob(jobID: job.id, token: "b", outcome: .succeeded, bindings: nil, at: t0 + 20))
                #expect(try one.job(id: job.id)?.life.state == .succeeded)
                #expect(try one.heartbeat(jobID: job.id, token: "b", leaseFor: lease, bindings: nil, at: t0 + 21) == .lost)
                #expect(try one.heartbeat(jobID: job.id + 100, token: "b", leaseFor: lease, bindings: nil, at: t0 + 21) == .lost)
            }
        }

        @Test("cancel: a queued job ends at once; a running one is told at its next heartbeat", arguments: Backend.all)
        func cancel(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                guard case .queued(let queued) = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: []) else {
                    Issue.record("not queued")
                    return
                }
                #expect(try two.requestCancel(jobID: queued.id)?.1 == .cancelled)
                #expect(try one.claimJob(token: "a", leaseFor: lease) == nil)

                _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
                let running = try #require(try one.claimJob(token: "a", leaseFor: lease))
                #expect(try two.requestCancel(jobID: running.id)?.1 == .requested)
                #expect(try one.heartbeat(jobID: running.id, token: "a", leaseFor: lease, bindings: nil) == .cancelRequested)
                try one.finishJob(jobID: running.id, token: "a", outcome: .cancelled, bindings: nil)
                #expect(try two.job(id: running.id)?.life.state == .cancelled)
                #expect(try two.requestCancel(jobID: running.id)?.1 == .alreadyFinished(.cancelled))
                #expect(try two.requestCancel(jobID: 9999) == nil)
            }
        }

        @Test("a job whose runner died with a cancel pending ends cancelled instead of being claimed", arguments: Backend.all)
        func cancelPendingAtExpiry(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [], at: t0)
                let job = try #require(try one.claimJob(token: "a", leaseFor: .seconds(1), at: t0))
                #expect(try two.requestCancel(jobID: job.id, at: t0 + 0.5)?.1 == .requested)
                #expect(try two.claimJob(token: "b", leaseFor: lease, at: t0 + 2) == nil)
                let ended = try #require(try one.job(id: job.id))
                #expect(ended.life.state == .cancelled && ended.life.finishedAt == t0 + 2)
            }
        }

        @Test("a handed-back job is queued again at once, keeps its progress, and costs no attempt", arguments: Backend.all)
        func handBack(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [], at: t0)
                let job = try #require(try one.claimJob(token: "a", leaseFor: lease, maxAttempts: 1, at: t0))
                let bindings = [BindingProgress(name: "acme/tags", resource: "tags", pages: 1, documents: 5, requests: 1)]
                #expect(try one.releaseJob(jobID: job.id, token: "a", bindings: bindings))
                let queued = try #require(try two.job(id: job.id))
                #expect(queued.life.state == .queued && queued.life.lease == nil && queued.bindings == bindings)
                #expect(try one.heartbeat(jobID: job.id, token: "a", leaseFor: lease, bindings: nil, at: t0 + 1) == .lost)
                // Long before "a"'s lease would have lapsed, and within an attempt limit of 1.
                let resumed = try #require(try two.claimJob(token: "b", leaseFor: lease, maxAttempts: 1, at: t0 + 1))
                #expect(resumed.id == job.id && resumed.bindings == bindings)
                #expect(resumed.life.attempts == 2 && resumed.life.handBacks == 1 && resumed.life.startedAt == t0)
            }
        }

        @Test("a hand-back with a cancel pending ends the job cancelled", arguments: Backend.all)
        func handBackWithCancelPending(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [], at: t0)
                let job = try #require(try one.claimJob(token: "a", leaseFor: lease, at: t0))
                _ = try two.requestCancel(jobID: job.id, at: t0 + 1)
                #expect(try one.releaseJob(jobID: job.id, token: "a", bindings: nil))
                #expect(try two.job(id: job.id)?.life.state == .cancelled)
                #expect(try two.claimJob(token: "b", leaseFor: lease, at: t0 + 2) == nil)
            }
        }

        @Test("after maxAttempts runs whose runner vanished, the next claim ends the job failed", arguments: Backend.all)
        func attemptsLimit(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [], at: t0)
                let short = Duration.seconds(1)
                let first = try #require(try one.claimJob(token: "a", leaseFor: short, maxAttempts: 2, at: t0))
                let second = try #require(try two.claimJob(token: "b", leaseFor: short, maxAttempts: 2, at: t0 + 2))
                #expect(second.id == first.id && second.life.attempts == 2)
                #expect(try one.claimJob(token: "c", leaseFor: short, maxAttempts: 2, at: t0 + 4) == nil)
                let ended = try #require(try two.job(id: first.id))
                #expect(ended.life.state == .failed && ended.life.finishedAt == t0 + 4)
                #expect(ended.life.error?.hasPrefix("Gave up after 2 attempts") == true)
                #expect(try two.jobCounts()[.failed] == 1)
            }
        }

        @Test(
            "progress saved with a heartbeat is read back; lists filter by capture and state, newest first",
            arguments: Backend.all)
        func progressAndLists(_ backend: Backend) async throws {
            try await withQueue(backend) { one, two, capture in
                _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
                let job = try #require(try one.claimJob(token: "a", leaseFor: lease))
                let bindings = [BindingProgress(name: "acme/tags", resource: "tags", pages: 2, documents: 30, requests: 2)]
                _ = try one.heartbeat(jobID: job.id, token: "a", leaseFor: lease, bindings: bindings)
                #expect(try two.job(id: job.id)?.bindings == bindings)
                #expect(try two.job(id: job.id)?.requests == 2)
                try one.finishJob(jobID: job.id, token: "a", outcome: .failed("boom"), bindings: nil)
                #expect(try two.job(id: job.id)?.bindings == bindings)  // nil keeps what was saved
                #expect(try two.job(id: job.id)?.life.error == "boom")
                _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
                #expect(try two.jobs(JobFilter(captureID: capture.id)).map(\.life.state) == [.queued, .failed])
                #expect(try two.jobs(JobFilter(states: [.failed])).map(\.id) == [job.id])
                #expect(try two.jobs(JobFilter(captureID: capture.id + 1)).isEmpty)
                #expect(try two.jobCounts()[.failed] == 1)
                #expect(try two.latestJobs()[capture.id]?.life.state == .queued)
            }
        }

        @Test("lists page with limit and offset; counts name every state", arguments: Backend.all)
        func listPaging(_ backend: Backend) async throws {
            try await backend.withStore { store in
                var ids: [Int64] = []
                for index in 0..<3 {
                    let capture = try store.insertCapture(newCapture("c\(index)"))
                    guard case .queued(let job) = try store.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
                    else {
                        Issue.record("not queued")
                        return
                    }
                    ids.append(job.id)
                }
                #expect(try store.jobs().map(\.id) == ids.reversed())
                #expect(try store.jobs(JobFilter(limit: 1, offset: 1)).map(\.id) == [ids[1]])
                #expect(try store.jobs(JobFilter(states: [.queued, .running], limit: 2)).map(\.id) == [ids[2], ids[1]])
                #expect(try store.jobCounts() == [.queued: 3, .running: 0, .succeeded: 0, .failed: 0, .cancelled: 0])
                #expect(try store.latestJobs().count == 3)
            }
        }
    }
}
