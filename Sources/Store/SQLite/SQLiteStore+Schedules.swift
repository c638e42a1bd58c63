import Foundation
import GRDB
import Model

// Schedules, the company lease, capture edits and deletion. Every rule that spans a job and its
// capture (a due run queued once; the next due time set when a job ends; a company leased to one
// runner) is applied inside the transaction that moves the job, so no process ever sees half.
extension SQLiteStore {
    static func registerScheduleMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("schedules-v1") { db in
            try db.execute(
                sql: """
                    ALTER TABLE capture ADD COLUMN everyMinutes INTEGER;
                    ALTER TABLE capture ADD COLUMN paused BOOLEAN NOT NULL DEFAULT 0;
                    ALTER TABLE capture ADD COLUMN nextRunAt DOUBLE;
                    ALTER TABLE capture ADD COLUMN frontCompany TEXT;
                    ALTER TABLE capture ADD COLUMN lastSuccessAt DOUBLE;
                    ALTER TABLE job ADD COLUMN runner TEXT;
                    CREATE INDEX capture_due ON capture(nextRunAt) WHERE everyMinutes IS NOT NULL AND paused = 0;
                    -- One runner at a time spends a Front company's rate budget.
                    CREATE TABLE company_lease (
                        company TEXT PRIMARY KEY NOT NULL,
                        runner TEXT NOT NULL,
                        expiresAt DOUBLE NOT NULL
                    );
                    -- When each collection was last brought up to date (its binding finished).
                    CREATE TABLE collection_sync (
                        collection TEXT PRIMARY KEY NOT NULL,
                        captureID INTEGER NOT NULL,
                        asOf DOUBLE NOT NULL
                    );
                    """)
        }
    }

    // MARK: Edits

    public func updateCapture(
        id: Int64, _ change: CaptureChange, by actor: String?, at now: Date
    ) throws(StoreError) -> CaptureRecord? {
        do {
            return try pool.write { db -> CaptureRecord? in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM capture WHERE id = ?", arguments: [id]) else {
                    return nil
                }
                let before = CaptureRecord(row: row)
                let edit = CaptureEdit(change, of: before)
                var capture = edit.capture
                if let name = edit.newName,
                    try Bool.fetchOne(db, sql: "SELECT 1 FROM capture WHERE name = ? AND id != ?", arguments: [name, id]) == true
                {
                    throw StoreError.Conflict.nameTaken
                }
                let active = try Self.activeJob(of: id, db: db)
                if !edit.deletedCollections.isEmpty {
                    if let active, active.life.state == .running { throw StoreError.Conflict.jobRunning(active.id) }
                    try Self.deleteCollections(edit.deletedCollections, db: db)
                }
                if edit.scheduleChanged {
                    capture.nextRunAt = try Self.nextRun(of: capture, activeJob: active != nil, now: now, db: db)
                }
                try db.execute(
                    sql: """
                        UPDATE capture SET name = ?, sealedToken = ?, tokenHint = ?, startDate = ?, resources = ?,
                            everyMinutes = ?, paused = ?, nextRunAt = ?, frontCompany = ?
                        WHERE id = ?
                        """,
                    arguments: [
                        capture.name, capture.sealedToken, capture.tokenHint, capture.startDate?.timeIntervalSince1970,
                        capture.resources.joined(separator: ","), capture.schedule.everyMinutes, capture.schedule.paused,
                        capture.nextRunAt?.timeIntervalSince1970, capture.frontCompany, id,
                    ])
                // A refused change threw above and wrote nothing, so it has no entry either: the
                // audit lists what changed, and the person saw the refusal on the page at once.
                if let entry = NewAuditEntry.captureChanged(
                    from: before, to: capture, removedCollections: change.removedCollections, by: actor)
                {
                    try Self.appendAudit(entry, at: now, db: db)
                }
                return capture
            }
        } catch let conflict as StoreError.Conflict {
            throw StoreError(path: path, action: "change capture \(id)", underlying: conflict)
        } catch {
            throw StoreError(path: path, action: "change capture \(id)", underlying: error)
        }
    }

    @discardableResult
    public func deleteCapture(
        id: Int64, collections: CollectionChoice, by actor: String?, at now: Date
    ) throws(StoreError) -> Bool {
        do {
            return try pool.write { db -> Bool in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM capture WHERE id = ?", arguments: [id]) else {
                    return false
                }
                let capture = CaptureRecord(row: row)
                if collections == .delete { try Self.deleteCollections(capture.collections, db: db) }
                try db.execute(sql: "DELETE FROM job WHERE captureID = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM collection_sync WHERE captureID = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM capture WHERE id = ?", arguments: [id])
                try Self.appendAudit(.captureDeleted(capture, collections: collections, by: actor), at: now, db: db)
                return true
            }
        } catch {
            throw StoreError(path: path, action: "delete capture \(id)", underlying: error)
        }
    }

    /// Documents, checkpoints (the collection's own and its `#…` companions) and freshness.
    private static func deleteCollections(_ names: [String], db: Database) throws {
        for name in names {
            try db.execute(sql: "DELETE FROM document WHERE collection = ?", arguments: [name])
            try db.execute(
                sql: "DELETE FROM checkpoint WHERE name = ? OR substr(name, 1, ?) = ?",
                arguments: [name, name.count + 1, name + "#"])
            try db.execute(sql: "DELETE FROM collection_sync WHERE collection = ?", arguments: [name])
        }
    }

    // MARK: Freshness

    public func collectionsAsOf() throws(StoreError) -> [String: Date] {
        do {
            return try read { db in
                var out: [String: Date] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT collection, asOf FROM collection_sync") {
                    out[row["collection"]] = Date(timeIntervalSince1970: row["asOf"])
                }
                return out
            }
        } catch {
            throw StoreError(path: path, action: "read how fresh collections are", underlying: error)
        }
    }

    public func lastSuccesses() throws(StoreError) -> [Int64: Date] {
        do {
            return try read { db in
                var out: [Int64: Date] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT id, lastSuccessAt FROM capture WHERE lastSuccessAt IS NOT NULL") {
                    out[row["id"]] = Date(timeIntervalSince1970: row["lastSuccessAt"])
                }
                return out
            }
        } catch {
            throw StoreError(path: path, action: "read the captures' last successes", underlying: error)
        }
    }

    // MARK: The scheduler

    public func enqueueDueRuns(at now: Date, limit: Int) throws(StoreError) -> [JobRecord] {
        do {
            return try pool.write { db -> [JobRecord] in
                let due = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM capture c
                        WHERE c.everyMinutes IS NOT NULL AND c.paused = 0 AND (c.nextRunAt IS NULL OR c.nextRunAt <= ?)
                          AND NOT EXISTS (SELECT 1 FROM job j WHERE j.captureID = c.id AND j.state IN ('queued', 'running'))
                        ORDER BY c.nextRunAt, c.id LIMIT ?
                        """,
                    arguments: [now.timeIntervalSince1970, max(0, limit)]
                ).map(CaptureRecord.init(row:))
                var queued: [JobRecord] = []
                for capture in due {
                    let bindings = capture.resources.map {
                        BindingProgress(name: capture.collection(for: $0), resource: $0)
                    }
                    let life = JobLife(createdAt: now)
                    try db.execute(
                        sql: "INSERT INTO job (captureID, state, createdAt, requestedBy, progress) VALUES (?, ?, ?, ?, ?)",
                        arguments: [
                            capture.id, life.state.rawValue, now.timeIntervalSince1970, scheduledJobRequester,
                            try encode(bindings),
                        ])
                    let jobID = db.lastInsertedRowID
                    // Due again only once this run ends (set in the transaction that ends it).
                    try db.execute(sql: "UPDATE capture SET nextRunAt = NULL WHERE id = ?", arguments: [capture.id])
                    guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [jobID]) else {
                        throw RowVanished(table: "job")
                    }
                    let job = try JobRecord(row: row)
                    try Self.appendAudit(
                        .jobStarted(job, captureName: capture.name, scheduled: capture.schedule, by: scheduledJobRequester),
                        at: now,
                        db: db)
                    queued.append(job)
                }
                return queued
            }
        } catch {
            throw StoreError(path: path, action: "queue due scheduled runs", underlying: error)
        }
    }

    @discardableResult
    public func catchUpMissedRuns(at now: Date, grace: Double, spread: Double) throws(StoreError) -> Int {
        do {
            return try pool.write { db -> Int in
                let missed = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM capture c
                        WHERE c.everyMinutes IS NOT NULL AND c.paused = 0 AND (c.nextRunAt IS NULL OR c.nextRunAt < ?)
                          AND NOT EXISTS (SELECT 1 FROM job j WHERE j.captureID = c.id AND j.state IN ('queued', 'running'))
                        """,
                    arguments: [now.timeIntervalSince1970 - grace]
                ).map(CaptureRecord.init(row:))
                for capture in missed {
                    let at = capture.schedule.catchUp(captureID: capture.id, now: now, spread: spread)
                    try db.execute(
                        sql: "UPDATE capture SET nextRunAt = ? WHERE id = ?", arguments: [at.timeIntervalSince1970, capture.id])
                }
                return missed.count
            }
        } catch {
            throw StoreError(path: path, action: "catch up missed scheduled runs", underlying: error)
        }
    }

    /// When a capture whose schedule just changed runs next: nil when the schedule starts
    /// nothing or a job is active (due when it ends); else its interval after the last run
    /// ended, or now when that is past or there was none.
    private static func nextRun(of capture: CaptureRecord, activeJob: Bool, now: Date, db: Database) throws -> Date? {
        guard capture.schedule.isActive, !activeJob else { return nil }
        let lastEnd = try Double.fetchOne(
            db, sql: "SELECT MAX(finishedAt) FROM job WHERE captureID = ? AND finishedAt IS NOT NULL", arguments: [capture.id])
        guard let lastEnd, let next = capture.schedule.nextRun(afterRunEndedAt: Date(timeIntervalSince1970: lastEnd))
        else { return now }
        return max(next, now)
    }

    static func activeJob(of captureID: Int64, db: Database) throws -> JobRecord? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM job WHERE captureID = ? AND state IN ('queued', 'running')", arguments: [captureID]
        ).map(JobRecord.init(row:))
    }

    // MARK: Hooks of the job transactions

    /// A job just ended: its capture is due again after its interval, its finished bindings'
    /// collections are as of now, a success is remembered, and the runner's company lease goes
    /// when this was its last job of that company.
    static func jobEnded(_ job: JobRecord, db: Database) throws {
        let end = job.life.finishedAt ?? Date()
        if let row = try Row.fetchOne(db, sql: "SELECT * FROM capture WHERE id = ?", arguments: [job.captureID]) {
            let capture = CaptureRecord(row: row)
            try db.execute(
                sql: "UPDATE capture SET nextRunAt = ? WHERE id = ?",
                arguments: [capture.schedule.nextRun(afterRunEndedAt: end)?.timeIntervalSince1970, capture.id])
            if job.life.state == .succeeded {
                try db.execute(
                    sql: "UPDATE capture SET lastSuccessAt = ? WHERE id = ?", arguments: [end.timeIntervalSince1970, capture.id])
            }
            for binding in job.bindings where binding.done {
                try db.execute(
                    sql: """
                        INSERT INTO collection_sync (collection, captureID, asOf) VALUES (?, ?, ?)
                        ON CONFLICT(collection) DO UPDATE SET captureID = excluded.captureID, asOf = excluded.asOf
                        """,
                    arguments: [binding.name, capture.id, end.timeIntervalSince1970])
            }
        }
        try leftRunning(job, db: db)
    }

    /// A job stopped running here (ended or handed back): the runner's company lease goes when
    /// it runs no other job of that company.
    static func leftRunning(_ job: JobRecord, db: Database) throws {
        try db.execute(
            sql: """
                DELETE FROM company_lease
                WHERE company = (SELECT c.frontCompany FROM capture c JOIN job j ON j.captureID = c.id WHERE j.id = ?1)
                  AND runner = (SELECT runner FROM job WHERE id = ?1)
                  AND NOT EXISTS (
                      SELECT 1 FROM job o JOIN capture oc ON oc.id = o.captureID
                      WHERE o.state = 'running' AND o.id != ?1 AND o.runner = company_lease.runner
                        AND oc.frontCompany = company_lease.company)
                """,
            arguments: [job.id])
    }

    /// A running job's lease was renewed: so is its runner's company lease.
    static func renewCompanyLease(_ job: JobRecord, db: Database) throws {
        guard let expires = job.life.lease?.expiresAt else { return }
        try db.execute(
            sql: """
                UPDATE company_lease SET expiresAt = MAX(expiresAt, ?2)
                WHERE company = (SELECT c.frontCompany FROM capture c JOIN job j ON j.captureID = c.id WHERE j.id = ?1)
                  AND runner = (SELECT runner FROM job WHERE id = ?1)
                """,
            arguments: [job.id, expires.timeIntervalSince1970])
    }

    /// Whether `runner` may run a job of `captureID` now: its company is unknown, unleased,
    /// leased to `runner`, or its lease lapsed. When it may and the company is known, the lease
    /// is taken (or renewed) until `until`.
    static func takeCompany(of captureID: Int64, runner: String, now: Date, until: Date, db: Database) throws -> Bool {
        guard let company = try String.fetchOne(db, sql: "SELECT frontCompany FROM capture WHERE id = ?", arguments: [captureID])
        else { return true }
        return try takeLease(company, runner: runner, now: now, until: until, db: db)
    }

    private static func takeLease(_ company: String, runner: String, now: Date, until: Date, db: Database) throws -> Bool {
        if let holder = try Row.fetchOne(
            db, sql: "SELECT runner, expiresAt FROM company_lease WHERE company = ?", arguments: [company]),
            holder["runner"] as String != runner, holder["expiresAt"] as Double > now.timeIntervalSince1970
        {
            return false
        }
        try db.execute(
            sql: """
                INSERT INTO company_lease (company, runner, expiresAt) VALUES (?, ?, ?)
                ON CONFLICT(company) DO UPDATE SET runner = excluded.runner, expiresAt = MAX(
                    CASE WHEN company_lease.runner = excluded.runner THEN company_lease.expiresAt ELSE 0 END, excluded.expiresAt)
                """,
            arguments: [company, runner, until.timeIntervalSince1970])
        return true
    }

    public func takeCompanyLease(
        jobID: Int64, token: String, company: String, leaseFor: Duration, at now: Date
    ) throws(StoreError) -> Bool {
        do {
            return try pool.write { db -> Bool in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [jobID]) else {
                    return false
                }
                let job = try JobRecord(row: row)
                guard job.life.state == .running, job.life.lease?.token == token else { return false }
                try db.execute(
                    sql: "UPDATE capture SET frontCompany = ? WHERE id = ?", arguments: [company, job.captureID])
                let runner: String = row["runner"] ?? ""
                return try Self.takeLease(
                    company, runner: runner, now: now, until: now.addingTimeInterval(leaseFor.inSeconds), db: db)
            }
        } catch {
            throw StoreError(path: path, action: "take the lease of Front company \(company)", underlying: error)
        }
    }
}
