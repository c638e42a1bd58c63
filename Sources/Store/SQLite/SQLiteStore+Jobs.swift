import Foundation
import GRDB
import Model

extension SQLiteStore {
    static func registerJobMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("jobs-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE job (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        captureID INTEGER NOT NULL REFERENCES capture(id),
                        state TEXT NOT NULL,
                        createdAt DOUBLE NOT NULL,
                        startedAt DOUBLE,
                        finishedAt DOUBLE,
                        leaseToken TEXT,
                        leaseExpiresAt DOUBLE,
                        cancelRequested BOOLEAN NOT NULL DEFAULT 0,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        error TEXT,
                        requestedBy TEXT,
                        progress BLOB NOT NULL DEFAULT '[]'
                    );
                    CREATE INDEX job_by_capture ON job(captureID, id DESC);
                    CREATE INDEX job_claimable ON job(state, leaseExpiresAt);
                    -- One queued-or-running job per capture, whatever the number of processes.
                    CREATE UNIQUE INDEX job_one_active ON job(captureID) WHERE state IN ('queued', 'running');
                    """)
        }
        migrator.registerMigration("jobs-v2-hand-backs") { db in
            try db.execute(sql: "ALTER TABLE job ADD COLUMN handBacks INTEGER NOT NULL DEFAULT 0")
        }
    }

    /// Queues a job for a capture, unless it already has a queued or running one (answered
    /// instead). The check, the insert and its audit entry (by `requestedBy`) are one
    /// transaction, and a unique index backs it. A job already active is no change, so it
    /// writes no entry: the audit lists what happened, and the page said "already running".
    public func enqueueJob(
        captureID: Int64, requestedBy: String?, bindings: [BindingProgress], at now: Date
    ) throws(StoreError) -> EnqueueResult {
        do {
            return try pool.write { db in
                if let active = try Row.fetchOne(
                    db, sql: "SELECT * FROM job WHERE captureID = ? AND state IN ('queued', 'running')", arguments: [captureID])
                {
                    return .alreadyActive(try JobRecord(row: active))
                }
                let life = JobLife(createdAt: now)
                try db.execute(
                    sql: "INSERT INTO job (captureID, state, createdAt, requestedBy, progress) VALUES (?, ?, ?, ?, ?)",
                    arguments: [captureID, life.state.rawValue, now.timeIntervalSince1970, requestedBy, try encode(bindings)])
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [db.lastInsertedRowID])
                else { throw RowVanished(table: "job") }
                let job = try JobRecord(row: row)
                let name = try String.fetchOne(db, sql: "SELECT name FROM capture WHERE id = ?", arguments: [captureID])
                try Self.appendAudit(.jobStarted(job, captureName: name, by: requestedBy), at: now, db: db)
                return .queued(job)
            }
        } catch {
            throw StoreError(path: path, action: "queue a job for capture \(captureID)", underlying: error)
        }
    }

    /// Claims the oldest job that is queued or whose lease expired, with `token`, in one write
    /// transaction (SQLite lets one writer at a time across processes, and the update is also
    /// conditioned on the row being unchanged). Running jobs whose runner died with a cancel
    /// pending are ended as cancelled on the way. nil when nothing is claimable.
    public func claimJob(
        token: String, runner: String, leaseFor: Duration, maxAttempts: Int, at now: Date
    ) throws(StoreError) -> JobRecord? {
        do {
            return try pool.write { db -> JobRecord? in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM job
                        WHERE (state = 'queued' OR (state = 'running' AND (leaseExpiresAt IS NULL OR leaseExpiresAt <= ?1)))
                          AND NOT EXISTS (
                              SELECT 1 FROM capture c JOIN company_lease l ON l.company = c.frontCompany
                              WHERE c.id = job.captureID AND l.runner != ?2 AND l.expiresAt > ?1)
                        ORDER BY id LIMIT 20
                        """,
                    arguments: [now.timeIntervalSince1970, runner])
                for row in rows {
                    var job = try JobRecord(row: row)
                    let before = job.life
                    guard job.life.isClaimable(at: now) else { continue }
                    // Another runner spends this company's budget now: leave the job to it.
                    let until = now.addingTimeInterval(leaseFor.inSeconds)
                    guard try Self.takeCompany(of: job.captureID, runner: runner, now: now, until: until, db: db) else {
                        continue
                    }
                    // The runner is recorded before the save, whose hooks read it.
                    try db.execute(sql: "UPDATE job SET runner = ? WHERE id = ?", arguments: [runner, job.id])
                    let result = try job.life.claim(token: token, now: now, leaseFor: leaseFor, maxAttempts: maxAttempts)
                    guard try Self.save(job, replacing: before, db: db) else { continue }
                    if result == .claimed { return job }
                }
                return nil
            }
        } catch {
            throw StoreError(path: path, action: "claim a job", underlying: error)
        }
    }

    /// The holder renews its lease and saves progress; answers whether to go on.
    public func heartbeat(
        jobID: Int64, token: String, leaseFor: Duration, bindings: [BindingProgress]?, at now: Date
    ) throws(StoreError) -> HeartbeatAnswer {
        try update(jobID, action: "renew the lease of job \(jobID)") { job in
            let cancel = try job.life.heartbeat(token: token, now: now, leaseFor: leaseFor)
            if let bindings { job.bindings = bindings }
            return cancel ? .cancelRequested : .keepGoing
        } lost: {
            .lost
        }
    }

    /// The holder ends the job. False when it no longer held it (nothing was written).
    @discardableResult
    public func finishJob(
        jobID: Int64, token: String, outcome: JobOutcome, bindings: [BindingProgress]?, at now: Date
    ) throws(StoreError) -> Bool {
        try update(jobID, action: "finish job \(jobID)") { job in
            try job.life.finish(outcome, token: token, now: now)
            if let bindings { job.bindings = bindings }
            return true
        } lost: {
            false
        }
    }

    /// The holder hands the job back unfinished (graceful stop): queued again for any runner.
    @discardableResult
    public func releaseJob(jobID: Int64, token: String, bindings: [BindingProgress]?) throws(StoreError) -> Bool {
        try update(jobID, action: "release job \(jobID)") { job in
            try job.life.release(token: token)
            if let bindings { job.bindings = bindings }
            return true
        } lost: {
            false
        }
    }

    /// Deletes the capture's ended jobs older than its `keeping` newest ended ones (retention);
    /// queued and running jobs are never touched. One statement, so one transaction.
    @discardableResult
    public func removeOldJobs(captureID: Int64, keeping: Int) throws(StoreError) -> Int {
        let ended = JobState.allCases.filter(\.isFinal).map(\.rawValue)
        let list = ended.map { _ in "?" }.joined(separator: ", ")
        let arguments: [any DatabaseValueConvertible] = [captureID] + ended + [captureID] + ended + [max(0, keeping)]
        do {
            return try pool.write { db -> Int in
                try db.execute(
                    sql: """
                        DELETE FROM job WHERE captureID = ? AND state IN (\(list)) AND id NOT IN (
                            SELECT id FROM job WHERE captureID = ? AND state IN (\(list)) ORDER BY id DESC LIMIT ?)
                        """,
                    arguments: StatementArguments(arguments))
                return db.changesCount
            }
        } catch {
            throw StoreError(path: path, action: "remove old jobs of capture \(captureID)", underlying: error)
        }
    }

    /// Asks a job to stop, with its audit entry when that changed something. nil when there
    /// is no such job.
    public func requestCancel(
        jobID: Int64, by actor: String?, at now: Date
    ) throws(StoreError) -> (JobRecord, JobLife.CancelResult)? {
        do {
            return try pool.write { db -> (JobRecord, JobLife.CancelResult)? in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [jobID]) else {
                    return nil
                }
                var job = try JobRecord(row: row)
                let before = job.life
                let result = job.life.requestCancel(now: now)
                if job.life != before, try Self.save(job, replacing: before, db: db) {
                    let name = try String.fetchOne(
                        db, sql: "SELECT name FROM capture WHERE id = ?", arguments: [job.captureID])
                    if let entry = NewAuditEntry.jobCancelled(job, captureName: name, result: result, by: actor) {
                        try Self.appendAudit(entry, at: now, db: db)
                    }
                }
                return (job, result)
            }
        } catch {
            throw StoreError(path: path, action: "cancel job \(jobID)", underlying: error)
        }
    }

    // MARK: Reads

    public func job(id: Int64) throws(StoreError) -> JobRecord? {
        do {
            return try read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [id]).map(JobRecord.init(row:))
            }
        } catch {
            throw StoreError(path: path, action: "read job \(id)", underlying: error)
        }
    }

    /// Jobs, newest first.
    public func jobs(_ filter: JobFilter) throws(StoreError) -> [JobRecord] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let captureID = filter.captureID {
            conditions.append("captureID = ?")
            arguments.append(captureID)
        }
        if !filter.states.isEmpty {
            conditions.append("state IN (\(filter.states.map { _ in "?" }.joined(separator: ", ")))")
            arguments += filter.states.map(\.rawValue)
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [filter.limit, filter.offset]
        do {
            return try read { [arguments] db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM job \(whereClause) ORDER BY id DESC LIMIT ? OFFSET ?",
                    arguments: StatementArguments(arguments)
                ).map(JobRecord.init(row:))
            }
        } catch {
            throw StoreError(path: path, action: "list jobs", underlying: error)
        }
    }

    /// The newest job of every capture that has one, by capture id.
    public func latestJobs() throws(StoreError) -> [Int64: JobRecord] {
        do {
            return try read { db in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM job WHERE id IN (SELECT MAX(id) FROM job GROUP BY captureID)")
                var out: [Int64: JobRecord] = [:]
                for row in rows {
                    let job = try JobRecord(row: row)
                    out[job.captureID] = job
                }
                return out
            }
        } catch {
            throw StoreError(path: path, action: "list jobs", underlying: error)
        }
    }

    /// How many jobs are in each state (every state present, zeros included).
    public func jobCounts() throws(StoreError) -> [JobState: Int] {
        do {
            return try read { db in
                var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
                for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM job GROUP BY state") {
                    if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
                }
                return counts
            }
        } catch {
            throw StoreError(path: path, action: "count jobs", underlying: error)
        }
    }

    // MARK: Plumbing

    /// Loads a job, lets `change` move it (a `JobTransitionError` means the caller lost it),
    /// and saves it only if the row is still as loaded.
    private func update<T>(
        _ jobID: Int64, action: String, _ change: @escaping (inout JobRecord) throws -> T, lost: @escaping () -> T
    ) throws(StoreError) -> T {
        do {
            return try pool.write { db -> T in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [jobID]) else {
                    return lost()
                }
                var job = try JobRecord(row: row)
                let before = job.life
                let answer: T
                do {
                    answer = try change(&job)
                } catch is JobTransitionError {
                    return lost()
                }
                guard try Self.save(job, replacing: before, db: db) else { return lost() }
                return answer
            }
        } catch {
            throw StoreError(path: path, action: action, underlying: error)
        }
    }

    /// Writes a job back, only if its row still holds `before`'s state and lease (a compare and
    /// swap on top of the write transaction). False when it had changed.
    private static func save(_ job: JobRecord, replacing before: JobLife, db: Database) throws -> Bool {
        let life = job.life
        try db.execute(
            sql: """
                UPDATE job SET state = ?, startedAt = ?, finishedAt = ?, leaseToken = ?, leaseExpiresAt = ?,
                    cancelRequested = ?, attempts = ?, handBacks = ?, error = ?, progress = ?
                WHERE id = ? AND state = ? AND leaseToken IS ?
                """,
            arguments: [
                life.state.rawValue, life.startedAt?.timeIntervalSince1970, life.finishedAt?.timeIntervalSince1970,
                life.lease?.token, life.lease?.expiresAt.timeIntervalSince1970, life.cancelRequested, life.attempts,
                life.handBacks, life.error, try encode(job.bindings), job.id, before.state.rawValue, before.lease?.token,
            ])
        guard db.changesCount == 1 else { return false }
        if life.state.isFinal && !before.state.isFinal {
            try jobEnded(job, db: db)
        } else if before.state == .running && life.state != .running {
            try leftRunning(job, db: db)
        } else if life.state == .running {
            try renewCompanyLease(job, db: db)
        }
        return true
    }
}

func encode(_ bindings: [BindingProgress]) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return try encoder.encode(bindings)
}

extension JobRecord {
    init(row: Row) throws {
        let token: String? = row["leaseToken"]
        let expires: Double? = row["leaseExpiresAt"]
        let life = JobLife(
            state: JobState(rawValue: row["state"]) ?? .failed,
            createdAt: Date(timeIntervalSince1970: row["createdAt"]),
            startedAt: (row["startedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            finishedAt: (row["finishedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lease: token.map { JobLease(token: $0, expiresAt: Date(timeIntervalSince1970: expires ?? 0)) },
            cancelRequested: row["cancelRequested"], attempts: row["attempts"], handBacks: row["handBacks"] ?? 0,
            error: row["error"])
        let data: Data = row["progress"] ?? Data("[]".utf8)
        self.init(
            id: row["id"], captureID: row["captureID"], life: life, requestedBy: row["requestedBy"],
            bindings: (try? JSONDecoder().decode([BindingProgress].self, from: data)) ?? [])
    }
}
