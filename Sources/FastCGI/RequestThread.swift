import Foundation

/// The one place where synchronous code waits for asynchronous code.
///
/// Each accept thread owns one of these. It hands a request to the async responder as a task
/// whose executor preference is this thread, then runs that task's jobs itself until the answer
/// is there. The handler's own work therefore stays on the accept thread that took the request
/// (as before, one thread a request), and the cooperative pool stays free for the services
/// (job runner, Fivetran refresher) even while a handler blocks on a database read. Whatever the
/// handler awaits elsewhere (an actor, URLSession) comes back here when it resumes. Public so
/// that the in-process tests hand requests over exactly as the accept threads do.
public final class RequestThread: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    public init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs `work` to completion on the calling thread and answers its result.
    public func run<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let outcome = Outcome<T>()
        Task(executorPreference: self) {
            self.finish(outcome, with: await work())
        }
        let executor = asUnownedTaskExecutor()
        condition.lock()
        while true {
            if let value = outcome.value {
                condition.unlock()
                return value
            }
            if jobs.isEmpty {
                condition.wait()
                continue
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: executor) }
            condition.lock()
        }
    }

    private func finish<T>(_ outcome: Outcome<T>, with value: T) {
        condition.lock()
        outcome.value = value
        condition.signal()
        condition.unlock()
    }

    private final class Outcome<T>: @unchecked Sendable {
        var value: T?
    }
}
