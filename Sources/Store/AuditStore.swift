import Foundation
import Model

/// The audit of who did what (`AuditEntry`). The store's own mutations that a person starts
/// (captures, jobs, API tokens) append their entry in their own transaction; this protocol is
/// for the rest (remote changes, recorded once Fivetran answered) and for reading.
public protocol AuditStore: Sendable {
    @discardableResult
    func appendAudit(_ entry: NewAuditEntry, at now: Date) throws(StoreError) -> AuditEntry

    /// Newest first, as filtered.
    func auditEntries(_ filter: AuditFilter) throws(StoreError) -> [AuditEntry]

    /// Retention: entries older than `cutoff` go. The only deletion there is.
    @discardableResult
    func removeAudit(olderThan cutoff: Date) throws(StoreError) -> Int
}

extension AuditStore {
    @discardableResult
    public func appendAudit(_ entry: NewAuditEntry) throws(StoreError) -> AuditEntry {
        try appendAudit(entry, at: Date())
    }
}
