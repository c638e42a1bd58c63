import Foundation
import GRDB
import Model

/// The store as one SQLite file (WAL mode), through GRDB: the default backend, because one
/// file next to the binary is all a single-host install should have to run. It implements
/// every store protocol (`SwitchboardStore`); callers hold it as the few of them they use.
///
/// Every write that covers documents also carries the checkpoint that says how far they go, in
/// the same transaction, so a process killed at any moment resumes without losing or repeating
/// a document. SQL stays in this module; callers see typed values.
public final class SQLiteStore: SwitchboardStore {
    /// Where the database lives; shown in messages, never used to reopen.
    public let path: String
    let pool: DatabasePool
    /// Readers at once. A request that cannot get one within `readerWait` gets a busy error
    /// (503 with Retry-After upstream) instead of queueing behind slow readers forever.
    static let readers = 8
    private let readerGate = DispatchSemaphore(value: SQLiteStore.readers)
    private let readerWait: Double

    /// Opens (creating if needed) the database at `path` and runs every migration not yet
    /// applied: the store's own, then `appending`'s (the app registers its tables there).
    ///
    /// The file (and its `-wal` and `-shm` companions, which SQLite creates with the same mode)
    /// is made 0600, or 0640 with `group` given: it holds sealed tokens and captured data. Every
    /// commit is `synchronous = FULL`, so a checkpoint acknowledged is one that survives a power
    /// loss. Writers wait `busyTimeout` for each other, well below any job lease, so a stuck
    /// writer shows up as an error rather than as a lease that silently lapses.
    public init(
        path: String, group: gid_t? = nil, busyTimeout: Double = 2, readerWait: Double = 3,
        appending: (inout DatabaseMigrator) -> Void = { _ in }
    ) throws(StoreError) {
        self.path = path
        self.readerWait = readerWait
        do {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Self.createPrivately(path, group: group)
            var configuration = Configuration()
            configuration.busyMode = .timeout(busyTimeout)
            configuration.maximumReaderCount = Self.readers
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            var migrator = SQLiteStore.migrator
            appending(&migrator)
            try migrator.migrate(pool)
        } catch {
            throw StoreError(path: path, action: "open", underlying: error)
        }
    }

    /// Creates the database file with mode 0600 (0640 for a group) before SQLite opens it, and
    /// tightens an existing one that others could read.
    private static func createPrivately(_ path: String, group: gid_t?) throws {
        let mode: mode_t = group == nil ? 0o600 : 0o640
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode)
        guard fd >= 0 else { throw StoreFileError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if let group { _ = fchown(fd, uid_t.max, group) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & 0o077 & ~(group == nil ? 0 : 0o040) != 0 {
            _ = fchmod(fd, mode)
        }
    }

    /// A read on a pooled connection, waiting at most `readerWait` for one to be free.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        guard readerGate.wait(timeout: .now() + readerWait) == .success else { throw StoreBusy() }
        defer { readerGate.signal() }
        return try pool.read(body)
    }

    /// The store's named migrations, in order. The app appends its own after these; names
    /// already applied are skipped, so a migration is never edited once shipped.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("documents-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE document (
                        collection TEXT NOT NULL,
                        key TEXT NOT NULL,
                        json BLOB NOT NULL,
                        sourceTime DOUBLE,
                        deleted BOOLEAN NOT NULL DEFAULT 0,
                        updatedAt DOUBLE NOT NULL,
                        PRIMARY KEY (collection, key)
                    );
                    CREATE INDEX document_recent ON document(collection, updatedAt DESC, key DESC);
                    """)
        }
        migrator.registerMigration("checkpoints-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE checkpoint (
                        name TEXT PRIMARY KEY NOT NULL,
                        state BLOB NOT NULL,
                        updatedAt DOUBLE NOT NULL
                    );
                    """)
        }
        registerConnectorNames(in: &migrator)
        // Captures, jobs and API tokens (SQLiteStore+Captures, +Jobs, +APITokens).
        registerCaptureMigrations(&migrator)
        registerJobMigrations(&migrator)
        registerAPITokenMigrations(&migrator)
        registerScheduleMigrations(&migrator)
        registerAuditMigrations(&migrator)
        return migrator
    }

    // MARK: Writes

    /// Applies every change in one transaction: documents upserted, documents marked deleted,
    /// checkpoints saved. Either all of it is on disk afterwards or none of it.
    ///
    /// With a `fence`, the same transaction first checks that the job still runs under the
    /// fence's lease token; if another runner took the job meanwhile, nothing is written and the
    /// error says the lease was lost (`StoreError.leaseLost`).
    @discardableResult
    public func commit(
        _ changes: [CollectionChanges], at time: Date, fence: LeaseFence?
    ) async throws(StoreError) -> [WriteCounts] {
        let stamp = time.timeIntervalSince1970
        do {
            return try await pool.write { db in
                if let fence { try Self.check(fence, db: db) }
                return try changes.map { try Self.apply($0, stamp: stamp, db: db) }
            }
        } catch {
            throw StoreError(path: path, action: "write", underlying: error)
        }
    }

    private static func check(_ fence: LeaseFence, db: Database) throws {
        let row = try Row.fetchOne(db, sql: "SELECT state, leaseToken FROM job WHERE id = ?", arguments: [fence.jobID])
        let state: String? = row?["state"]
        let token: String? = row?["leaseToken"]
        guard state == JobState.running.rawValue, token == fence.token else { throw LeaseLost(jobID: fence.jobID) }
    }

    private static func apply(_ changes: CollectionChanges, stamp: Double, db: Database) throws -> WriteCounts {
        var counts = WriteCounts()
        // Newer-or-equal source time wins; an identical live document is left untouched, so a
        // re-read of unchanged data writes nothing and counts nothing.
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO document (collection, key, json, sourceTime, deleted, updatedAt)
                VALUES (?, ?, ?, ?, 0, ?)
                ON CONFLICT (collection, key) DO UPDATE SET
                    json = excluded.json, sourceTime = excluded.sourceTime,
                    deleted = 0, updatedAt = excluded.updatedAt
                WHERE (document.deleted OR document.json IS NOT excluded.json)
                  AND (document.sourceTime IS NULL OR excluded.sourceTime IS NULL
                       OR excluded.sourceTime >= document.sourceTime)
                """)
        for document in changes.upserts {
            try upsert.execute(arguments: [
                changes.collection, document.key, document.json, document.sourceTime, stamp,
            ])
            counts.written += db.changesCount
        }
        switch changes.deletions {
        case .none:
            break
        case .keys(let keys):
            let statement = try db.cachedStatement(
                sql: "UPDATE document SET deleted = 1, updatedAt = ? WHERE collection = ? AND key = ? AND NOT deleted")
            for key in keys {
                try statement.execute(arguments: [stamp, changes.collection, key])
                counts.deleted += db.changesCount
            }
        case .allExcept(let keys):
            let list = String(decoding: try JSONEncoder().encode(keys.sorted()), as: UTF8.self)
            try db.execute(
                sql: """
                    UPDATE document SET deleted = 1, updatedAt = ?
                    WHERE collection = ? AND NOT deleted
                      AND key NOT IN (SELECT value FROM json_each(?))
                    """,
                arguments: [stamp, changes.collection, list])
            counts.deleted += db.changesCount
        }
        for checkpoint in changes.checkpoints {
            try db.execute(
                sql: """
                    INSERT INTO checkpoint (name, state, updatedAt) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET state = excluded.state, updatedAt = excluded.updatedAt
                    """,
                arguments: [checkpoint.name, checkpoint.state, stamp])
        }
        return counts
    }

    // MARK: Reads

    /// The last committed state saved under `name`, or nil before the first commit.
    public func checkpoint(named name: String) throws(StoreError) -> Data? {
        do {
            return try read { db in
                try Data.fetchOne(db, sql: "SELECT state FROM checkpoint WHERE name = ?", arguments: [name])
            }
        } catch {
            throw StoreError(path: path, action: "read checkpoint \(name)", underlying: error)
        }
    }

    /// Every collection with its counts, by name.
    public func collections() throws(StoreError) -> [CollectionSummary] {
        do {
            return try read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT collection,
                               SUM(NOT deleted) AS live, SUM(deleted) AS gone, MAX(updatedAt) AS last
                        FROM document GROUP BY collection ORDER BY collection
                        """
                ).map { row in
                    CollectionSummary(
                        name: row["collection"], documents: row["live"], deleted: row["gone"],
                        lastUpdate: Date(timeIntervalSince1970: row["last"]))
                }
            }
        } catch {
            throw StoreError(path: path, action: "list collections", underlying: error)
        }
    }

    /// One page of a collection, most recently written first (deleted ones included, flagged).
    /// Pass the last document of a page as `after` to get the next page.
    public func documents(
        in collection: String, limit: Int, after last: StoredDocument?
    ) throws(StoreError) -> [StoredDocument] {
        do {
            return try read { db in
                let rows: [Row]
                if let last {
                    rows = try Row.fetchAll(
                        db,
                        sql: """
                            SELECT * FROM document WHERE collection = ?
                              AND (updatedAt < ? OR (updatedAt = ? AND key < ?))
                            ORDER BY updatedAt DESC, key DESC LIMIT ?
                            """,
                        arguments: [
                            collection, last.updatedAt.timeIntervalSince1970,
                            last.updatedAt.timeIntervalSince1970, last.key, limit,
                        ])
                } else {
                    rows = try Row.fetchAll(
                        db, sql: "SELECT * FROM document WHERE collection = ? ORDER BY updatedAt DESC, key DESC LIMIT ?",
                        arguments: [collection, limit])
                }
                return rows.map(StoredDocument.init(row:))
            }
        } catch {
            throw StoreError(path: path, action: "read \(collection)", underlying: error)
        }
    }

    /// One document by key, deleted or not.
    public func document(in collection: String, key: String) throws(StoreError) -> StoredDocument? {
        do {
            return try read { db in
                try Row.fetchOne(
                    db, sql: "SELECT * FROM document WHERE collection = ? AND key = ?", arguments: [collection, key]
                ).map(StoredDocument.init(row:))
            }
        } catch {
            throw StoreError(path: path, action: "read \(collection)", underlying: error)
        }
    }

    /// Hands each live document of a collection, in key order, to `body` one at a time, read in
    /// keyset batches of `batch`: memory stays flat whatever the collection's size, and no
    /// reader is held while `body` runs, so a slow consumer (a download) never keeps one.
    /// Deleted documents are left out unless `includingDeleted`; `body` stops it by throwing.
    public func forEachDocument(
        in collection: String, includingDeleted: Bool, batch: Int, _ body: (StoredDocument) throws -> Void
    ) throws(StoreError) {
        var after: String?
        do {
            while true {
                // `key > ?` alone (no `OR`), so each batch is a range seek on the primary key.
                let rows = try read { db in
                    if let after {
                        try Row.fetchAll(
                            db,
                            sql: """
                                SELECT * FROM document WHERE collection = ? AND key > ? AND (? OR NOT deleted)
                                ORDER BY key LIMIT ?
                                """,
                            arguments: [collection, after, includingDeleted, max(1, batch)])
                    } else {
                        try Row.fetchAll(
                            db,
                            sql: "SELECT * FROM document WHERE collection = ? AND (? OR NOT deleted) ORDER BY key LIMIT ?",
                            arguments: [collection, includingDeleted, max(1, batch)])
                    }
                }
                for row in rows { try body(StoredDocument(row: row)) }
                guard rows.count >= max(1, batch), let last = rows.last else { return }
                after = last["key"]
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(path: path, action: "export \(collection)", underlying: error)
        }
    }
}

extension StoredDocument {
    init(row: Row) {
        self.init(
            collection: row["collection"], key: row["key"], json: row["json"], sourceTime: row["sourceTime"],
            deleted: row["deleted"], updatedAt: Date(timeIntervalSince1970: row["updatedAt"]))
    }
}
