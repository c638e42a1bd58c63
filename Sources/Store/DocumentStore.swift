import Foundation

/// Captured documents and the checkpoints that say how far they go: what the capture engine
/// writes, and what pages, downloads and the next run read back.
///
/// The promise the engine's resume logic stands on, whatever the backend: a `commit` is one
/// transaction (its documents, deletions and checkpoints all land or none does), and with a
/// fence it first checks, in that same transaction, that the job still runs under the fence's
/// lease token, else it writes nothing and throws `StoreError` with `leaseLost`. So a crash never
/// loses or repeats a document, and a runner that lost its job cannot overwrite the new
/// holder's progress. The contract suite (`Tests/StoreTests/Contract/`) checks it
/// of every implementation.
public protocol DocumentStore: Sendable {
    /// Applies every change in one transaction, stamped `time`. Per key, a newer-or-equal
    /// source time wins and an identical live document is left alone, so re-reading unchanged
    /// data writes and counts nothing; the counts say what really changed.
    @discardableResult
    func commit(_ changes: [CollectionChanges], at time: Date, fence: LeaseFence?) async throws(StoreError) -> [WriteCounts]

    /// The last committed state saved under `name`, or nil before the first commit.
    func checkpoint(named name: String) throws(StoreError) -> Data?

    /// Every collection with its counts, by name.
    func collections() throws(StoreError) -> [CollectionSummary]

    /// One page of a collection, most recently written first (deleted ones included, flagged).
    /// Pass the last document of a page as `after` to get the next page: a keyset, so a page
    /// costs the same however deep it is.
    func documents(in collection: String, limit: Int, after last: StoredDocument?) throws(StoreError) -> [StoredDocument]

    /// One document by key, deleted or not.
    func document(in collection: String, key: String) throws(StoreError) -> StoredDocument?

    /// Hands each live document of a collection (every one with `includingDeleted`), in key
    /// order, to `body`, read in keyset batches of `batch`: memory stays flat whatever the
    /// collection's size, and no reader is held while `body` runs, so a slow consumer (a
    /// download) never keeps one. `body` stops it by throwing.
    func forEachDocument(
        in collection: String, includingDeleted: Bool, batch: Int, _ body: (StoredDocument) throws -> Void
    ) throws(StoreError)
}

// The usual arguments, kept out of the requirements so every backend implements one form and
// the contract suite can pass its own clock.
extension DocumentStore {
    /// Commits unfenced changes (the command-line capture, tests).
    @discardableResult
    public func commit(_ changes: [CollectionChanges], at time: Date = Date()) async throws(StoreError) -> [WriteCounts] {
        try await commit(changes, at: time, fence: nil)
    }

    /// One collection's changes; see `commit(_:at:fence:)`.
    @discardableResult
    public func commit(
        _ changes: CollectionChanges, at time: Date = Date(), fence: LeaseFence? = nil
    ) async throws(StoreError) -> WriteCounts {
        try await commit([changes], at: time, fence: fence).first ?? WriteCounts()
    }

    public func documents(in collection: String, limit: Int = 50) throws(StoreError) -> [StoredDocument] {
        try documents(in: collection, limit: limit, after: nil)
    }

    /// In batches of 500.
    public func forEachDocument(
        in collection: String, includingDeleted: Bool = false, _ body: (StoredDocument) throws -> Void
    ) throws(StoreError) {
        try forEachDocument(in: collection, includingDeleted: includingDeleted, batch: 500, body)
    }
}

/// A document to upsert: its key, the JSON exactly as the source sent it, and the source's own
/// timestamp for it (if it has one), which decides between two versions of the same key.
public struct DocumentWrite: Sendable, Equatable {
    public var key: String
    public var json: Data
    public var sourceTime: Double?

    public init(key: String, json: Data, sourceTime: Double? = nil) {
        self.key = key
        self.json = json
        self.sourceTime = sourceTime
    }
}

/// Which documents of a collection to mark deleted.
public enum Deletions: Sendable, Equatable {
    case none
    case keys([String])
    /// Every live document except these keys: the end of a full snapshot.
    case allExcept(Set<String>)
}

/// A named checkpoint state (opaque bytes, JSON by convention) to save with the documents.
public struct CheckpointWrite: Sendable, Equatable {
    public var name: String
    public var state: Data

    public init(name: String, state: Data) {
        self.name = name
        self.state = state
    }
}

/// Everything one step of a capture changes in one collection.
public struct CollectionChanges: Sendable, Equatable {
    public var collection: String
    public var upserts: [DocumentWrite]
    public var deletions: Deletions
    public var checkpoints: [CheckpointWrite]

    public init(
        collection: String, upserts: [DocumentWrite] = [], deletions: Deletions = .none,
        checkpoints: [CheckpointWrite] = []
    ) {
        self.collection = collection
        self.upserts = upserts
        self.deletions = deletions
        self.checkpoints = checkpoints
    }
}

/// What a commit actually changed: unchanged documents count as neither.
public struct WriteCounts: Sendable, Equatable {
    public var written = 0
    public var deleted = 0

    public init(written: Int = 0, deleted: Int = 0) {
        self.written = written
        self.deleted = deleted
    }
}

/// A collection as the collections page lists it.
public struct CollectionSummary: Sendable, Equatable {
    public var name: String
    public var documents: Int
    public var deleted: Int
    public var lastUpdate: Date

    public init(name: String, documents: Int, deleted: Int, lastUpdate: Date) {
        self.name = name
        self.documents = documents
        self.deleted = deleted
        self.lastUpdate = lastUpdate
    }
}

/// A stored document with its bookkeeping.
public struct StoredDocument: Sendable, Equatable {
    public var collection: String
    public var key: String
    public var json: Data
    public var sourceTime: Double?
    public var deleted: Bool
    public var updatedAt: Date

    public init(collection: String, key: String, json: Data, sourceTime: Double?, deleted: Bool, updatedAt: Date) {
        self.collection = collection
        self.key = key
        self.json = json
        self.sourceTime = sourceTime
        self.deleted = deleted
        self.updatedAt = updatedAt
    }
}

/// Who may write a job's documents: the job, and the lease token its runner claimed it with.
/// Passed with every commit of a job's run, so the check and the write are one transaction.
public struct LeaseFence: Sendable, Equatable {
    public var jobID: Int64
    public var token: String

    public init(jobID: Int64, token: String) {
        self.jobID = jobID
        self.token = token
    }
}
