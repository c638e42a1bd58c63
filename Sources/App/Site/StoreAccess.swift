import Logging
import Model
import Store
import Web

/// The store as the routes use it: every failure becomes the page that explains it (503 with
/// `Retry-After`), and the capture or job a path names is found or answers 404. Captures, jobs,
/// collections, the API and settings each hold one.
struct StoreAccess: Sendable {
    /// What the routes read and write (today `SQLiteStore`, which is all of these).
    typealias Routes = CaptureStore & JobQueue & DocumentStore & APITokenStore & AuditStore

    let store: any Routes
    let logger: Logger

    /// `body` on the store, its failure as `failure(_:)`.
    func read<T>(_ body: (any Routes) throws -> T) throws(HTTPError) -> T {
        do { return try body(store) } catch { throw failure(error) }
    }

    /// 503 with `Retry-After`: the database is busy (every reader taken, a writer holding the
    /// lock) or failing. Said in words; the details go to the log.
    func failure(_ error: any Error) -> HTTPError {
        logger.error("\(error)")
        let stored = error as? StoreError
        let action = stored?.action ?? "unknown operation"
        let why = stored?.isBusy == true ? "is busy" : "could not answer"
        return HTTPError(
            status: 503, title: "Database unavailable",
            message: "The database \(why) (\(action)). Try again in a moment; if it persists, check the worker's log.",
            headers: ["Retry-After": "2"])
    }

    /// The capture with the path's `id`, or 404.
    func capture(_ request: Request) throws(HTTPError) -> CaptureRecord {
        guard let id = request[parameter: "id"].flatMap(Int64.init) else { throw .notFound("There is no such capture.") }
        guard let found = try read({ try $0.capture(id: id) }) else {
            throw .notFound("There is no capture \(id). It may have been removed.")
        }
        return found
    }

    /// The job with the path's `id`, or 404.
    func job(_ request: Request) throws(HTTPError) -> JobRecord {
        guard let id = request[parameter: "id"].flatMap(Int64.init) else { throw .notFound("There is no such job.") }
        guard let found = try read({ try $0.job(id: id) }) else { throw .notFound("There is no job \(id).") }
        return found
    }

    /// Queues a job for a capture (or finds the one already queued or running): the pages'
    /// "Sync now" and the API's POST.
    func enqueue(_ capture: CaptureRecord, requestedBy: String?) throws(HTTPError) -> EnqueueResult {
        let bindings = capture.resources.map { BindingProgress(name: capture.collection(for: $0), resource: $0) }
        return try read { try $0.enqueueJob(captureID: capture.id, requestedBy: requestedBy, bindings: bindings) }
    }
}
