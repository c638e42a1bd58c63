import Foundation
import GRDB
import Model

// The audit: one row per change, appended and never updated. The store's own changes append
// theirs through `appendAudit(_:at:db:)` inside their transaction; remote changes (Fivetran)
// through `appendAudit(_:at:)` once Fivetran answered.
extension SQLiteStore {
    static func registerAuditMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("audit-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at DOUBLE NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        object TEXT NOT NULL,
                        detail TEXT,
                        error TEXT
                    );
                    -- Newest first, over all of it or one object's or one person's entries.
                    CREATE INDEX audit_recent ON audit(at DESC, id DESC);
                    CREATE INDEX audit_by_object ON audit(object, at DESC, id DESC);
                    CREATE INDEX audit_by_actor ON audit(actor, at DESC, id DESC);
                    """)
        }
    }

    @discardableResult
    public func appendAudit(_ entry: NewAuditEntry, at now: Date) throws(StoreError) -> AuditEntry {
        do {
            return try pool.write { db in try Self.appendAudit(entry, at: now, db: db) }
        } catch {
            throw StoreError(path: path, action: "append to the audit", underlying: error)
        }
    }

    /// Appends `entry` in the caller's transaction: the change and its entry commit together
    /// or not at all.
    @discardableResult
    static func appendAudit(_ entry: NewAuditEntry, at now: Date, db: Database) throws -> AuditEntry {
        try db.execute(
            sql: "INSERT INTO audit (at, actor, action, object, detail, error) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                now.timeIntervalSince1970, entry.actor, entry.action.rawValue, entry.object, entry.detail, entry.error,
            ])
        return AuditEntry(
            id: db.lastInsertedRowID, at: now, actor: entry.actor, action: entry.action, object: entry.object,
            detail: entry.detail, error: entry.error)
    }

    public func auditEntries(_ filter: AuditFilter) throws(StoreError) -> [AuditEntry] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let object = filter.object {
            conditions.append("object = ?")
            arguments.append(object)
        }
        if let actor = filter.actor {
            conditions.append("actor = ?")
            arguments.append(actor)
        }
        if let action = filter.action {
            conditions.append("action = ?")
            arguments.append(action.rawValue)
        } else {
            // Only actions this version knows (a newer one may have written others), so a page
            // holds `limit` entries and the next one starts where it ended.
            conditions.append("action IN (\(AuditAction.allCases.map { _ in "?" }.joined(separator: ", ")))")
            arguments += AuditAction.allCases.map(\.rawValue)
        }
        arguments += [max(0, filter.limit), max(0, filter.offset)]
        let whereClause = "WHERE " + conditions.joined(separator: " AND ")
        do {
            return try read { [arguments] db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM audit \(whereClause) ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
                    arguments: StatementArguments(arguments)
                ).compactMap(AuditEntry.init(row:))
            }
        } catch {
            throw StoreError(path: path, action: "read the audit", underlying: error)
        }
    }

    @discardableResult
    public func removeAudit(olderThan cutoff: Date) throws(StoreError) -> Int {
        do {
            return try pool.write { db in
                try db.execute(sql: "DELETE FROM audit WHERE at < ?", arguments: [cutoff.timeIntervalSince1970])
                return db.changesCount
            }
        } catch {
            throw StoreError(path: path, action: "remove old audit entries", underlying: error)
        }
    }
}

extension AuditEntry {
    /// nil for an action this version does not know.
    init?(row: Row) {
        guard let action = AuditAction(rawValue: row["action"]) else { return nil }
        self.init(
            id: row["id"], at: Date(timeIntervalSince1970: row["at"]), actor: row["actor"], action: action,
            object: row["object"], detail: row["detail"], error: row["error"])
    }
}
