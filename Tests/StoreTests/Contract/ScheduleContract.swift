import Foundation
import Model
import Store
import Testing

extension StoreContract {
    /// Schedules: a due run is queued exactly once whatever the number of runners, the next is
    /// due an interval after the previous ended, missed runs collapse, and a paused or manual
    /// capture starts nothing.
    @Suite("Schedules") struct Schedules {
        let lease = Duration.seconds(10)
        let every5 = CaptureSchedule(everyMinutes: 5)

        /// Claims and ends the capture's queued job at `end`.
        private func run(_ store: any SwitchboardStore, _ job: JobRecord, endingAt end: Date, done: [String] = []) throws {
            let claimed = try #require(try store.claimJob(token: "t\(job.id)", leaseFor: lease, at: end - 1))
            #expect(claimed.id == job.id)
            let bindings = done.map { BindingProgress(name: $0, resource: "tags", state: .done) }
            #expect(try store.finishJob(jobID: job.id, token: "t\(job.id)", outcome: .succeeded, bindings: bindings, at: end))
        }

        @Test(
            "a new scheduled capture is due at once; its next run is due an interval after the last ended", arguments: Backend.all
        )
        func dueAfterTheEnd(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let acme = try one.insertCapture(newCapture("Acme", schedule: every5), at: t0)
                _ = try one.insertCapture(newCapture("Manual"), at: t0)
                _ = try one.insertCapture(newCapture("Paused", schedule: CaptureSchedule(everyMinutes: 1, paused: true)), at: t0)

                let first = try two.enqueueDueRuns(at: t0, limit: 10)
                #expect(first.map(\.captureID) == [acme.id])
                #expect(first.first?.requestedBy == "schedule")
                // Queued already: not again, and not while it runs.
                #expect(try one.enqueueDueRuns(at: t0 + 3600, limit: 10).isEmpty)
                #expect(try one.capture(id: acme.id)?.nextRunAt == nil)

                let end = t0 + 100
                try run(one, try #require(first.first), endingAt: end, done: ["acme/tags"])
                #expect(try two.capture(id: acme.id)?.nextRunAt == end + 300)
                #expect(try two.enqueueDueRuns(at: end + 299, limit: 10).isEmpty)
                let second = try two.enqueueDueRuns(at: end + 300, limit: 10)
                #expect(second.map(\.captureID) == [acme.id])

                // Freshness: the collection as of the run's end, the capture's last success.
                #expect(try one.collectionsAsOf()["acme/tags"] == end)
                #expect(try one.lastSuccesses()[acme.id] == end)
            }
        }

        @Test("two stores racing on the same due captures queue each run exactly once", arguments: Backend.all)
        func exactlyOnce(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                var ids: Set<Int64> = []
                for index in 0..<30 {
                    ids.insert(try one.insertCapture(newCapture("C\(index)", schedule: every5), at: t0).id)
                }
                let queued = Shared<[Int64]>([])
                await withTaskGroup(of: Void.self) { group in
                    for store in [one, two, one, two] {
                        group.addTask {
                            for step in 0..<20 {
                                // Every racer asks over and over; each due run still comes out once.
                                if let jobs = try? store.enqueueDueRuns(at: t0 + Double(step), limit: 7) {
                                    queued.withLock { $0 += jobs.map(\.captureID) }
                                }
                            }
                        }
                    }
                }
                let all = queued.withLock { $0 }
                #expect(all.count == 30)
                #expect(Set(all) == ids)
                #expect(try one.jobCounts()[.queued] == 30)
            }
        }

        @Test("paused and manual captures start nothing; resuming makes a run due", arguments: Backend.all)
        func pauseAndResume(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let acme = try store.insertCapture(newCapture("Acme", schedule: every5), at: t0)
                let paused = try #require(
                    try store.updateCapture(
                        id: acme.id, CaptureChange(schedule: CaptureSchedule(everyMinutes: 5, paused: true)), at: t0))
                #expect(paused.nextRunAt == nil)
                #expect(try store.enqueueDueRuns(at: t0 + 3600, limit: 10).isEmpty)

                let resumed = try #require(try store.updateCapture(id: acme.id, CaptureChange(schedule: every5), at: t0 + 60))
                #expect(resumed.nextRunAt == t0 + 60)  // never ran: due now
                #expect(try store.enqueueDueRuns(at: t0 + 60, limit: 10).count == 1)

                let manual = try #require(try store.updateCapture(id: acme.id, CaptureChange(schedule: .manual), at: t0 + 61))
                #expect(manual.schedule == .manual)
                let job = try #require(try store.jobs(JobFilter(captureID: acme.id)).first)
                try run(store, job, endingAt: t0 + 120)
                #expect(try store.capture(id: acme.id)?.nextRunAt == nil)
                #expect(try store.enqueueDueRuns(at: t0 + 86_400, limit: 10).isEmpty)
            }
        }

        @Test("runs missed while nothing ran collapse into one each, spread over the catch-up window", arguments: Backend.all)
        func missedRunsCollapse(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                for index in 0..<100 {
                    let capture = try one.insertCapture(newCapture("C\(index)", schedule: every5), at: t0)
                    let job = try #require(try one.enqueueDueRuns(at: t0, limit: 1).first)
                    #expect(job.captureID == capture.id)
                    try run(one, job, endingAt: t0 + 10)
                }
                // Down for three hours: 36 runs each were missed.
                let now = t0 + 3 * 3600
                #expect(try two.catchUpMissedRuns(at: now, grace: 5, spread: 30) == 100)
                let due = try one.captures().compactMap(\.nextRunAt)
                #expect(due.count == 100)
                #expect(due.allSatisfy { $0 >= now && $0 <= now + 30 })
                #expect(Set(due.map { Int($0.timeIntervalSince1970) }).count > 20)  // not all in one second
                // A second process starting moves nothing already caught up.
                #expect(try one.catchUpMissedRuns(at: now + 1, grace: 5, spread: 30) == 0)
                #expect(try two.enqueueDueRuns(at: now + 31, limit: 1000).count == 100)
                #expect(try one.enqueueDueRuns(at: now + 32, limit: 1000).isEmpty)
            }
        }
    }

    /// Editing and deleting captures.
    @Suite("Capture edits") struct CaptureEdits {
        @Test("an edit replaces what it names; a name taken is refused; a new token forgets the company", arguments: Backend.all)
        func edit(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let acme = try one.insertCapture(newCapture("Acme", resources: ["tags", "teams"]), at: t0)
                _ = try one.insertCapture(newCapture("Other"), at: t0)
                let changed = try #require(
                    try two.updateCapture(
                        id: acme.id,
                        CaptureChange(
                            name: "Acme 2", sealedToken: (Data([9]), "9999"), startDate: .some(t0), resources: ["events", "tags"]),
                        at: t0))
                #expect(changed.name == "Acme 2")
                #expect(changed.prefix == "acme")  // collections keep their names
                #expect(changed.tokenHint == "9999")
                #expect(changed.resources == ["events", "tags"])
                #expect(try one.capture(id: acme.id) == changed)
                #expect(throws: StoreError.self) { try one.updateCapture(id: acme.id, CaptureChange(name: "Other"), at: t0) }
                do {
                    _ = try one.updateCapture(id: acme.id, CaptureChange(name: "Other"), at: t0)
                } catch let error as StoreError {
                    #expect(error.isNameTaken)
                }
                #expect(try one.updateCapture(id: 999, CaptureChange(name: "x"), at: t0) == nil)
            }
        }

        @Test("removing a binding keeps or deletes its collection and checkpoints, as asked", arguments: Backend.all)
        func removedBindings(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let acme = try store.insertCapture(newCapture("Acme", resources: ["events", "tags", "teams"]), at: t0)
                try await store.commit([
                    CollectionChanges(
                        collection: "acme/tags", upserts: [doc("t1")], checkpoints: [checkpoint("acme/tags", "{}")]),
                    CollectionChanges(
                        collection: "acme/teams", upserts: [doc("m1")], checkpoints: [checkpoint("acme/teams", "{}")]),
                    CollectionChanges(
                        collection: "acme/events", upserts: [doc("e1")],
                        checkpoints: [checkpoint("acme/events", "{}"), checkpoint("acme/events#follow", "{}")]),
                    CollectionChanges(
                        collection: "acme/tagsx", upserts: [doc("x")], checkpoints: [checkpoint("acme/tagsx", "{}")]),
                ])
                _ = try store.updateCapture(
                    id: acme.id, CaptureChange(resources: ["events", "teams"], removedCollections: .keep), at: t0)
                #expect(try store.document(in: "acme/tags", key: "t1") != nil)
                _ = try store.updateCapture(id: acme.id, CaptureChange(resources: ["teams"], removedCollections: .delete), at: t0)
                #expect(try store.document(in: "acme/events", key: "e1") == nil)
                #expect(try store.checkpoint(named: "acme/events") == nil)
                #expect(try store.checkpoint(named: "acme/events#follow") == nil)
                // Only the removed collection: a kept one and a look-alike name stay.
                #expect(try store.document(in: "acme/tags", key: "t1") != nil)
                #expect(try store.document(in: "acme/tagsx", key: "x") != nil)
                #expect(try store.checkpoint(named: "acme/tagsx") != nil)
                #expect(try store.capture(id: acme.id)?.resources == ["teams"])
            }
        }

        @Test("deleting collections a running job writes is refused, naming the job", arguments: Backend.all)
        func runningJobBlocksDeletion(_ backend: Backend) async throws {
            try await backend.withStore { store in
                let acme = try store.insertCapture(newCapture("Acme", resources: ["tags", "teams"]), at: t0)
                _ = try store.enqueueJob(captureID: acme.id, requestedBy: nil, bindings: [])
                let job = try #require(try store.claimJob(token: "r", leaseFor: .seconds(10)))
                do {
                    _ = try store.updateCapture(
                        id: acme.id, CaptureChange(resources: ["teams"], removedCollections: .delete), at: t0)
                    Issue.record("a deletion under a running job was allowed")
                } catch let error as StoreError {
                    #expect(error.runningJob == job.id)
                }
                // Keeping them is fine: the change applies from the next run.
                #expect(try store.updateCapture(id: acme.id, CaptureChange(resources: ["teams"]), at: t0)?.resources == ["teams"])
            }
        }

        @Test("deleting a capture removes it and its jobs, and its collections only when asked", arguments: Backend.all)
        func delete(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let keep = try one.insertCapture(newCapture("Keep"), at: t0)
                let drop = try one.insertCapture(newCapture("Drop"), at: t0)
                try await one.commit([
                    CollectionChanges(collection: "keep/tags", upserts: [doc("a")], checkpoints: [checkpoint("keep/tags", "{}")]),
                    CollectionChanges(collection: "drop/tags", upserts: [doc("b")], checkpoints: [checkpoint("drop/tags", "{}")]),
                ])
                _ = try one.enqueueJob(captureID: keep.id, requestedBy: nil, bindings: [])
                let running = try #require(try one.claimJob(token: "r", leaseFor: .seconds(10)))
                #expect(try two.deleteCapture(id: keep.id, collections: .keep))
                #expect(try two.deleteCapture(id: drop.id, collections: .delete))
                #expect(try two.deleteCapture(id: drop.id, collections: .delete) == false)
                #expect(try one.captures().isEmpty)
                #expect(try one.job(id: running.id) == nil)
                #expect(try one.document(in: "keep/tags", key: "a") != nil)
                #expect(try one.checkpoint(named: "keep/tags") != nil)
                #expect(try one.document(in: "drop/tags", key: "b") == nil)
                #expect(try one.checkpoint(named: "drop/tags") == nil)
                // The job whose capture went writes nothing more.
                #expect(try one.heartbeat(jobID: running.id, token: "r", leaseFor: .seconds(10), bindings: nil) == .lost)
                await #expect(throws: StoreError.self) {
                    try await one.commit(
                        [CollectionChanges(collection: "keep/tags", upserts: [doc("z")])], at: t0,
                        fence: LeaseFence(jobID: running.id, token: "r"))
                }
            }
        }
    }

    /// The company lease: one runner at a time runs a Front company's jobs.
    @Suite("Company lease") struct CompanyLease {
        let lease = Duration.seconds(10)

        @Test("a company's jobs go to the runner holding its lease, to others once it lets go", arguments: Backend.all)
        func oneRunnerPerCompany(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let a = try one.insertCapture(newCapture("A"), at: t0)
                let b = try one.insertCapture(newCapture("B"), at: t0)
                let c = try one.insertCapture(newCapture("C"), at: t0)
                for capture in [a, b, c] { _ = try one.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: []) }

                // Runner 1 claims A's job; /me names its company, and the lease is runner 1's.
                let jobA = try #require(try one.claimJob(token: "a", runner: "r1", leaseFor: lease, at: t0))
                #expect(jobA.captureID == a.id)
                #expect(try one.takeCompanyLease(jobID: jobA.id, token: "a", company: "cmp_1", leaseFor: lease, at: t0))
                // B turns out to be of the same company: runner 2 must hand it back.
                let jobB = try #require(try two.claimJob(token: "b", runner: "r2", leaseFor: lease, at: t0))
                #expect(jobB.captureID == b.id)
                #expect(try two.takeCompanyLease(jobID: jobB.id, token: "b", company: "cmp_1", leaseFor: lease, at: t0) == false)
                #expect(try two.releaseJob(jobID: jobB.id, token: "b", bindings: nil))
                // Now that B's company is known, runner 2 skips it and takes C instead.
                let jobC = try #require(try two.claimJob(token: "c", runner: "r2", leaseFor: lease, at: t0 + 1))
                #expect(jobC.captureID == c.id)
                #expect(try two.takeCompanyLease(jobID: jobC.id, token: "c", company: "cmp_2", leaseFor: lease, at: t0 + 1))
                #expect(try two.claimJob(token: "b2", runner: "r2", leaseFor: lease, at: t0 + 2) == nil)
                // Runner 1 may run B beside A: one budget, one runner.
                let jobB1 = try #require(try one.claimJob(token: "b1", runner: "r1", leaseFor: lease, at: t0 + 2))
                #expect(jobB1.captureID == b.id)
                #expect(try one.finishJob(jobID: jobB1.id, token: "b1", outcome: .succeeded, bindings: nil, at: t0 + 3))
                // Still A running under r1: the lease stays until its last job ends.
                _ = try one.enqueueJob(captureID: b.id, requestedBy: nil, bindings: [], at: t0 + 3)
                #expect(try two.claimJob(token: "b3", runner: "r2", leaseFor: lease, at: t0 + 4) == nil)
                #expect(try one.finishJob(jobID: jobA.id, token: "a", outcome: .succeeded, bindings: nil, at: t0 + 5))
                let taken = try #require(try two.claimJob(token: "b4", runner: "r2", leaseFor: lease, at: t0 + 6))
                #expect(taken.captureID == b.id)
            }
        }

        @Test("a runner that died leaves a lease that lapses; heartbeats keep a live one", arguments: Backend.all)
        func lapses(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let a = try one.insertCapture(newCapture("A"), at: t0)
                let b = try one.insertCapture(newCapture("B"), at: t0)
                _ = try one.enqueueJob(captureID: a.id, requestedBy: nil, bindings: [])
                let jobA = try #require(try one.claimJob(token: "a", runner: "r1", leaseFor: lease, at: t0))
                #expect(try one.takeCompanyLease(jobID: jobA.id, token: "a", company: "cmp_1", leaseFor: lease, at: t0))
                _ = try one.updateCapture(id: b.id, CaptureChange(schedule: .manual), at: t0)
                _ = try one.enqueueJob(captureID: b.id, requestedBy: nil, bindings: [])
                // B's company is unknown: any runner may start it (it learns the company from /me).
                let jobB = try #require(try two.claimJob(token: "b", runner: "r2", leaseFor: lease, at: t0))
                #expect(try two.takeCompanyLease(jobID: jobB.id, token: "b", company: "cmp_1", leaseFor: lease, at: t0) == false)
                #expect(try two.releaseJob(jobID: jobB.id, token: "b", bindings: nil))
                // r1 renews at t0+8 to t0+18; at t0+12 r2 still waits.
                #expect(try one.heartbeat(jobID: jobA.id, token: "a", leaseFor: lease, bindings: nil, at: t0 + 8) == .keepGoing)
                #expect(try two.claimJob(token: "b", runner: "r2", leaseFor: lease, at: t0 + 12) == nil)
                // r1 dies: after both leases lapse, r2 takes B, and A too.
                let next = try #require(try two.claimJob(token: "x", runner: "r2", leaseFor: lease, at: t0 + 19))
                #expect([a.id, b.id].contains(next.captureID))
            }
        }
    }
}
