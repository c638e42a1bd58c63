import Foundation
import GRDB
import Model

// The audit (being written: reads answer nothing and appends are refused until the next commits).
extension SQLiteStore {
    @discardableResult
    public func appendAudit(_ entry: NewAuditEntry, at now: Date) throws(StoreError) -> AuditEntry {
        throw StoreError(path: path, action: "append to the audit", underlying: AuditNotYet())
    }

    public func auditEntries(_ filter: AuditFilter) throws(StoreError) -> [AuditEntry] { [] }

    @discardableResult
    public func removeAudit(olderThan cutoff: Date) throws(StoreError) -> Int { 0 }
}

private struct AuditNotYet: Error {}
