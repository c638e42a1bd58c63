import Foundation
import Model

/// Saved captures (their definitions, `CaptureRecord`): what the capture pages list and save,
/// and what a runner reads to know what a job copies.
public protocol CaptureStore: Sendable {
    /// Saves a capture; a name or collection prefix already taken is refused with
    /// `StoreError.isNameTaken`, so two captures never write one collection. The audit's
    /// `capture.created` entry, by `actor`, is written in the same transaction.
    func insertCapture(_ capture: NewCapture, by actor: String?, at now: Date) throws(StoreError) -> CaptureRecord

    /// Every capture, by name (case-insensitive).
    func captures() throws(StoreError) -> [CaptureRecord]

    func capture(id: Int64) throws(StoreError) -> CaptureRecord?

    /// Applies a change; nil when there is no such capture. A schedule changed (or resumed) is
    /// due `everyMinutes` after the last run ended (now at the latest, when that is past), or
    /// once the running job ends. Removed resources' collections and checkpoints go with
    /// `removedCollections == .delete`, refused (`StoreError.runningJob`) while a job runs.
    /// Everything else applies from the next run; a running job keeps what it started with.
    /// A `capture.changed` entry by `actor` naming the fields that changed is written in the
    /// same transaction (none when nothing differed, or the change was refused).
    func updateCapture(
        id: Int64, _ change: CaptureChange, by actor: String?, at now: Date
    ) throws(StoreError) -> CaptureRecord?

    /// Deletes a capture and its jobs in one transaction, and its collections and checkpoints
    /// with `.delete`. A job still running finds its lease gone at its next commit or heartbeat
    /// and stops without writing. False when there was no such capture. A `capture.deleted`
    /// entry by `actor` is written in the same transaction; the capture's earlier entries stay.
    @discardableResult
    func deleteCapture(id: Int64, collections: CollectionChoice, by actor: String?, at now: Date) throws(StoreError) -> Bool

    /// When each collection was last brought up to date: the end of the latest job in which its
    /// binding finished. Collections never finished are absent.
    func collectionsAsOf() throws(StoreError) -> [String: Date]

    /// The end of each capture's latest succeeded job, by capture id (for freshness alerts).
    func lastSuccesses() throws(StoreError) -> [Int64: Date]
}

// Now, unless said otherwise; a new capture's maker (`createdBy`) is who the audit names, and
// a change or deletion with no one named is recorded as `anonymous` (the audit misses nothing).
extension CaptureStore {
    public func insertCapture(_ capture: NewCapture, at now: Date) throws(StoreError) -> CaptureRecord {
        try insertCapture(capture, by: capture.createdBy, at: now)
    }

    public func insertCapture(_ capture: NewCapture) throws(StoreError) -> CaptureRecord {
        try insertCapture(capture, by: capture.createdBy, at: Date())
    }

    public func updateCapture(id: Int64, _ change: CaptureChange, at now: Date) throws(StoreError) -> CaptureRecord? {
        try updateCapture(id: id, change, by: nil, at: now)
    }

    public func updateCapture(id: Int64, _ change: CaptureChange, by actor: String? = nil) throws(StoreError) -> CaptureRecord? {
        try updateCapture(id: id, change, by: actor, at: Date())
    }

    @discardableResult
    public func deleteCapture(id: Int64, collections: CollectionChoice, by actor: String? = nil) throws(StoreError) -> Bool {
        try deleteCapture(id: id, collections: collections, by: actor, at: Date())
    }
}
