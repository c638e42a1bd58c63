import Foundation
import Model
import Store
import Testing

extension StoreContract {
    /// `JobQueue.removeOldJobs`: what the runner calls after each job, so a capture keeps its
    /// newest ended jobs and no more.
    @Suite("Job retention") struct Retention {
        let lease = Duration.seconds(10)

        /// Runs one job of `capture` to `outcome` (cancelled: asked to stop while queued).
        @discardableResult
        private func endedJob(_ store: any SwitchboardStore, _ capture: CaptureRecord, _ outcome: JobOutcome) throws -> Int64 {
            guard case .queued(let job) = try store.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: []) else {
                throw RetentionSetupFailure()
            }
            if case .cancelled = outcome {
                _ = try store.requestCancel(jobID: job.id)
            } else {
                let claimed = try #require(try store.claimJob(token: "t\(job.id)", leaseFor: lease))
                #expect(claimed.id == job.id)
                try store.finishJob(jobID: job.id, token: "t\(job.id)", outcome: outcome, bindings: nil)
            }
            #expect(try store.job(id: job.id)?.life.state.isFinal == true)
            return job.id
        }

        private func ids(_ store: any SwitchboardStore, _ capture: CaptureRecord) throws -> [Int64] {
            try store.jobs(JobFilter(captureID: capture.id, limit: 1000)).map(\.id)
        }

        @Test(
            "a capture keeps its newest N ended jobs; older ended ones go, a queued or running one never, other captures untouched",
            arguments: Backend.all)
        func keepsNewestEnded(_ backend: Backend) async throws {
            try await backend.withStores { one, two in
                let acme = try one.insertCapture(newCapture("Acme"))
                let other = try one.insertCapture(newCapture("Other"))
                let outcomes: [JobOutcome] = [.succeeded, .failed("boom"), .cancelled, .succeeded, .failed("again")]
                var acmeJobs: [Int64] = []
                for outcome in outcomes { acmeJobs.append(try endedJob(one, acme, outcome)) }
                let otherJobs = try (0..<3).map { _ in try endedJob(one, other, .succeeded) }
                guard case .queued(let queued) = try one.enqueueJob(captureID: acme.id, requestedBy: nil, bindings: []) else {
                    Issue.record("not queued")
                    return
                }

                // More kept than there are: nothing goes.
                #expect(try two.removeOldJobs(captureID: acme.id, keeping: 100) == 0)
                #expect(try ids(one, acme) == [queued.id] + acmeJobs.reversed())

                // The queued job neither goes nor counts among the two kept.
                #expect(try two.removeOldJobs(captureID: acme.id, keeping: 2) == 3)
                #expect(try ids(one, acme) == [queued.id, acmeJobs[4], acmeJobs[3]])
                for gone in acmeJobs.prefix(3) { #expect(try one.job(id: gone) == nil) }
                #expect(try ids(one, other) == otherJobs.reversed())

                // A running job survives even keeping none; the capture can still queue after.
                let running = try #require(try one.claimJob(token: "r", leaseFor: lease))
                #expect(running.id == queued.id)
                #expect(try one.removeOldJobs(captureID: acme.id, keeping: 0) == 2)
                #expect(try ids(two, acme) == [queued.id])
                #expect(try two.job(id: queued.id)?.life.state == .running)
                #expect(try two.removeOldJobs(captureID: acme.id, keeping: 0) == 0)
                try one.finishJob(jobID: running.id, token: "r", outcome: .succeeded, bindings: nil)
                #expect(try one.removeOldJobs(captureID: acme.id, keeping: 1) == 0)
                #expect(try ids(two, acme) == [queued.id])
                #expect(try two.jobCounts()[.succeeded] == 4)
            }
        }
    }
}

private struct RetentionSetupFailure: Error {}
