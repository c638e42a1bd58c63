import Foundation
import Logging
import Model
import Store

/// Starts the runs that captures' schedules make due. It only asks the store: queueing a due
/// run and clearing its due time are one transaction there (`JobQueue.enqueueDueRuns`), so every
/// runner of every process may tick and each run still starts once. The runner ticks it before
/// each look for queued jobs, so a due run is claimed in the same pass.
public struct Scheduler: Sendable {
    /// Catch-up runs start within this many seconds of start-up (a tenth of a capture's
    /// interval at most), each capture at its own offset.
    public static let catchUpSpread: Double = 30
    /// Runs queued per tick: a hundred due captures start over a few ticks, not in one burst.
    public static let perTick = 20

    let store: any JobQueue
    let logger: Logger

    public init(store: any JobQueue, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// At start-up: runs missed while nothing ran (due before `now − grace`) become one run
    /// each, spread over the next `catchUpSpread` seconds.
    public func catchUp(now: Date = Date(), grace: Double) {
        do {
            let moved = try store.catchUpMissedRuns(at: now, grace: grace, spread: Self.catchUpSpread)
            if moved > 0 { logger.info("missed scheduled runs collapsed into one each", metadata: ["captures": "\(moved)"]) }
        } catch {
            logger.warning("cannot catch up missed scheduled runs: \(error)")
        }
    }

    /// Queues what is due now; answers the jobs queued.
    @discardableResult
    public func tick(now: Date = Date()) -> [JobRecord] {
        do {
            let queued = try store.enqueueDueRuns(at: now, limit: Self.perTick)
            for job in queued {
                logger.info("scheduled run queued", metadata: ["job": "\(job.id)", "capture": "\(job.captureID)"])
            }
            return queued
        } catch {
            logger.warning("cannot queue scheduled runs: \(error)")
            return []
        }
    }
}
