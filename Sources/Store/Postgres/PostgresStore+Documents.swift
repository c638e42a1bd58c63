import Foundation
import Model
import PostgresNIO

extension PostgresStore {
    /// Every change in one transaction, as `SQLiteStore.commit`; with a `fence`, the job's row is
    /// locked (`FOR SHARE`) before anything is written, so no other runner can take the job over
    /// between the check and the commit.
    @discardableResult
    public func commit(
        _ changes: [CollectionChanges], at time: Date, fence: LeaseFence?
    ) async throws(StoreError) -> [WriteCounts] {
        do {
            return try await writeAsync { session in
                let stamp = try self.now(time, session).timeIntervalSince1970
                if let fence {
                    let row = try session.one("SELECT state, leaseToken FROM job WHERE id = \(fence.jobID) FOR SHARE")
                    let state = try row?.decode("state", as: String.self)
                    let token = try row?.decode("leaseToken", as: String?.self)
                    guard state == JobState.running.rawValue, token == fence.token else { throw LeaseLost(jobID: fence.jobID) }
                }
                return try changes.map { try Self.apply($0, stamp: stamp, session: session) }
            }
        } catch {
            throw failure("write", error)
        }
    }

    private static func apply(_ changes: CollectionChanges, stamp: Double, session: Session) throws -> WriteCounts {
        var counts = WriteCounts()
        // Newer-or-equal source time wins; an identical live document is left untouched (jsonb
        // compares values, so a re-read with its keys in another order writes nothing either).
        for document in changes.upserts {
            counts.written += try session.execute(
                """
                INSERT INTO document AS d (collection, key, json, sourceTime, deleted, updatedAt)
                VALUES (\(changes.collection), \(document.key), \(String(decoding: document.json, as: UTF8.self))::jsonb,
                        \(document.sourceTime), false, \(stamp))
                ON CONFLICT (collection, key) DO UPDATE SET
                    json = excluded.json, sourceTime = excluded.sourceTime, deleted = false, updatedAt = excluded.updatedAt
                WHERE (d.deleted OR d.json IS DISTINCT FROM excluded.json)
                  AND (d.sourceTime IS NULL OR excluded.sourceTime IS NULL OR excluded.sourceTime >= d.sourceTime)
                """)
        }
        switch changes.deletions {
        case .none:
            break
        case .keys(let keys):
            counts.deleted += try session.execute(
                """
                UPDATE document SET deleted = true, updatedAt = \(stamp)
                WHERE collection = \(changes.collection) AND key = ANY(\(keys)) AND NOT deleted
                """)
        case .allExcept(let keys):
            counts.deleted += try session.execute(
                """
                UPDATE document SET deleted = true, updatedAt = \(stamp)
                WHERE collection = \(changes.collection) AND NOT deleted AND NOT (key = ANY(\(keys.sorted())))
                """)
        }
        for checkpoint in changes.checkpoints {
            try session.execute(
                """
                INSERT INTO checkpoint (name, state, updatedAt) VALUES (\(checkpoint.name), \(checkpoint.state), \(stamp))
                ON CONFLICT (name) DO UPDATE SET state = excluded.state, updatedAt = excluded.updatedAt
                """)
        }
        return counts
    }

    public func checkpoint(named name: String) throws(StoreError) -> Data? {
        try run("read checkpoint \(name)") {
            try read { session in
                try session.one("SELECT state FROM checkpoint WHERE name = \(name)")?.decode("state", as: Data.self)
            }
        }
    }

    public func collections() throws(StoreError) -> [CollectionSummary] {
        try run("list collections") {
            try read { session in
                try session.rows(
                    """
                    SELECT collection, COUNT(*) FILTER (WHERE NOT deleted) AS live, COUNT(*) FILTER (WHERE deleted) AS gone,
                           MAX(updatedAt) AS last
                    FROM document GROUP BY collection ORDER BY collection
                    """
                ).map { row in
                    CollectionSummary(
                        name: try row.decode("collection"), documents: Int(try row.decode("live", as: Int64.self)),
                        deleted: Int(try row.decode("gone", as: Int64.self)), lastUpdate: try row.date("last"))
                }
            }
        }
    }

    /// The columns of a `StoredDocument`, its JSON as text.
    private static let documentColumns = "collection, key, json::text AS json, sourceTime, deleted, updatedAt"

    public func documents(in collection: String, limit: Int, after last: StoredDocument?) throws(StoreError) -> [StoredDocument] {
        let limit = max(0, limit)
        return try run("read \(collection)") {
            try read { session in
                let rows: [PGRow]
                if let last {
                    let at = last.updatedAt.timeIntervalSince1970
                    rows = try session.rows(
                        """
                        SELECT \(unescaped: Self.documentColumns) FROM document WHERE collection = \(collection)
                          AND (updatedAt < \(at) OR (updatedAt = \(at) AND key < \(last.key)))
                        ORDER BY updatedAt DESC, key DESC LIMIT \(limit)
                        """)
                } else {
                    rows = try session.rows(
                        """
                        SELECT \(unescaped: Self.documentColumns) FROM document WHERE collection = \(collection)
                        ORDER BY updatedAt DESC, key DESC LIMIT \(limit)
                        """)
                }
                return try rows.map(StoredDocument.init(row:))
            }
        }
    }

    public func document(in collection: String, key: String) throws(StoreError) -> StoredDocument? {
        try run("read \(collection)") {
            try read { session in
                try session.one(
                    "SELECT \(unescaped: Self.documentColumns) FROM document WHERE collection = \(collection) AND key = \(key)"
                ).map(StoredDocument.init(row:))
            }
        }
    }

    /// Keyset batches on the primary key, as SQLite's: memory stays flat whatever the
    /// collection's size, and no connection is held while `body` runs.
    public func forEachDocument(
        in collection: String, includingDeleted: Bool, batch: Int, _ body: (StoredDocument) throws -> Void
    ) throws(StoreError) {
        let batch = max(1, batch)
        var after: String?
        do {
            while true {
                let rows = try read { session in
                    if let after {
                        try session.rows(
                            """
                            SELECT \(unescaped: Self.documentColumns) FROM document
                            WHERE collection = \(collection) AND key > \(after) AND (\(includingDeleted) OR NOT deleted)
                            ORDER BY key LIMIT \(batch)
                            """)
                    } else {
                        try session.rows(
                            """
                            SELECT \(unescaped: Self.documentColumns) FROM document
                            WHERE collection = \(collection) AND (\(includingDeleted) OR NOT deleted)
                            ORDER BY key LIMIT \(batch)
                            """)
                    }
                }
                let documents = try rows.map(StoredDocument.init(row:))
                for document in documents { try body(document) }
                guard documents.count >= batch, let last = documents.last else { return }
                after = last.key
            }
        } catch {
            throw failure("export \(collection)", error)
        }
    }
}

extension StoredDocument {
    init(row: PGRow) throws {
        self.init(
            collection: try row.decode("collection"), key: try row.decode("key"),
            json: Data(try row.decode("json", as: String.self).utf8), sourceTime: try row.decode("sourceTime"),
            deleted: try row.decode("deleted"), updatedAt: try row.date("updatedAt"))
    }
}
