import Foundation

/// A database operation that failed, with the file and what was being done. Every store
/// protocol throws this one type, whatever the backend, so callers decide on its flags (busy:
/// 503 and retry; lease lost: stop without writing; conflict: say the name is taken) and never
/// on a backend's own errors.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var action: String
    public var reason: String
    /// The task was cancelled before the transaction began: nothing was written.
    public var isCancellation: Bool
    /// Set when the write broke a rule of the data (a name taken), not the database.
    public var conflict: Conflict?

    /// No reader could be had in time: the database is busy, try again shortly (503).
    public var isBusy: Bool
    /// A fenced commit found another runner holding the job: nothing was written.
    public var leaseLost: Bool

    /// `underlying` sets the flags by its type: `CancellationError`, `Conflict`, `StoreBusy` or
    /// `LeaseLost`; anything else is a failure in words. Public so that a backend in a module of
    /// its own throws the same errors.
    public init(path: String, action: String, underlying: any Error) {
        self.path = path
        self.action = action
        self.reason = String(describing: underlying)
        self.isCancellation = underlying is CancellationError
        self.conflict = underlying as? Conflict
        self.isBusy = underlying is StoreBusy
        self.leaseLost = underlying is LeaseLost
    }

    public var description: String { "database \(path): cannot \(action): \(reason)" }
}

extension StoreError {
    /// A write refused because it would break a rule of the data (not a database failure).
    public enum Conflict: Error, Sendable, CustomStringConvertible {
        case nameTaken
        /// The change would delete collections a running job is writing (job id).
        case jobRunning(Int64)

        public var description: String {
            switch self {
            case .nameTaken: "a capture with this name (or collection prefix) already exists"
            case .jobRunning(let job):
                "job \(job) is writing these collections now; wait for it to end (or cancel it) before deleting them"
            }
        }
    }

    /// True when a capture's name or prefix was already taken.
    public var isNameTaken: Bool {
        if case .nameTaken = conflict { return true }
        return false
    }

    /// The running job that stopped a change, when that was the conflict.
    public var runningJob: Int64? {
        if case .jobRunning(let job) = conflict { return job }
        return nil
    }
}

/// What a fenced commit throws (wrapped in `StoreError`, which then says `leaseLost`) when the
/// job is no longer running under the fence's token.
public struct LeaseLost: Error, Sendable, CustomStringConvertible {
    public let jobID: Int64
    public init(jobID: Int64) { self.jobID = jobID }
    public var description: String { "the lease of job \(jobID) is no longer ours: another runner took it over" }
}

/// What a read throws (wrapped in `StoreError`, which then says `isBusy`) when no reader can be
/// had in time, so the caller answers 503 rather than queueing behind slow readers.
public struct StoreBusy: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "every database reader is busy" }
}

/// A row just inserted could not be read back in the same transaction (a corrupt database).
struct RowVanished: Error, CustomStringConvertible {
    let table: String
    var description: String {
        "the \(table) row just inserted cannot be read back; check the database with `sqlite3 FILE 'PRAGMA integrity_check'`"
    }
}

struct StoreFileError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "cannot create \(path) (\(reason)): is its folder writable?" }
}
