import Foundation
import Model
import PostgresNIO

// Schedules, the company lease, capture edits and deletion, with the same rules as SQLite's
// (SQLiteStore+Schedules), held across hosts by row locks: a capture being edited, deleted or
// queued by the scheduler is locked `FOR UPDATE`; the scheduler skips captures another host is
// queueing (`SKIP LOCKED`), and the unique index of active jobs makes a due run exist once.
extension PostgresStore {
    // MARK: Edits

    public func updateCapture(
        id: Int64, _ change: CaptureChange, by actor: String?, at now: Date
    ) throws(StoreError) -> CaptureRecord? {
        try run("change capture \(id)") {
            try write { session -> CaptureRecord? in
                let now = try self.now(now, session)
                guard let row = try session.one("SELECT * FROM capture WHERE id = \(id) FOR UPDATE") else { return nil }
                let before = try CaptureRecord(row: row)
                let edit = CaptureEdit(change, of: before)
                var capture = edit.capture
                if let name = edit.newName,
                    try session.one("SELECT 1 AS taken FROM capture WHERE name = \(name) AND id != \(id)") != nil
                {
                    throw StoreError.Conflict.nameTaken
                }
                let active = try Self.activeJob(of: id, session: session)
                if !edit.deletedCollections.isEmpty {
                    if let active, active.life.state == .running { throw StoreError.Conflict.jobRunning(active.id) }
                    try Self.deleteCollections(edit.deletedCollections, session: session)
                }
                if edit.scheduleChanged {
                    capture.nextRunAt = try Self.nextRun(of: capture, activeJob: active != nil, now: now, session: session)
                }
                try session.execute(
                    """
                    UPDATE capture SET name = \(capture.name), sealedToken = \(capture.sealedToken),
                        tokenHint = \(capture.tokenHint), startDate = \(capture.startDate?.timeIntervalSince1970),
                        resources = \(capture.resources.joined(separator: ",")),
                        everyMinutes = \(capture.schedule.everyMinutes.map(Int64.init)), paused = \(capture.schedule.paused),
                        nextRunAt = \(capture.nextRunAt?.timeIntervalSince1970), frontCompany = \(capture.frontCompany)
                    WHERE id = \(id)
                    """)
                if let entry = NewAuditEntry.captureChanged(
                    from: before, to: capture, removedCollections: change.removedCollections, by: actor)
                {
                    try Self.appendAudit(entry, at: now, session: session)
                }
                return capture
            }
        }
    }

    @discardableResult
    public func deleteCapture(
        id: Int64, collections: CollectionChoice, by actor: String?, at now: Date
    ) throws(StoreError) -> Bool {
        try run("delete capture \(id)") {
            try write { session -> Bool in
                let now = try self.now(now, session)
                guard let row = try session.one("SELECT * FROM capture WHERE id = \(id) FOR UPDATE") else { return false }
                let capture = try CaptureRecord(row: row)
                if collections == .delete { try Self.deleteCollections(capture.collections, session: session) }
                try session.execute("DELETE FROM job WHERE captureID = \(id)")
                try session.execute("DELETE FROM collection_sync WHERE captureID = \(id)")
                try session.execute("DELETE FROM capture WHERE id = \(id)")
                try Self.appendAudit(.captureDeleted(capture, collections: collections, by: actor), at: now, session: session)
                return true
            }
        }
    }

    /// Documents, checkpoints (the collection's own and its `#…` companions) and freshness.
    private static func deleteCollections(_ names: [String], session: Session) throws {
        for name in names {
            try session.execute("DELETE FROM document WHERE collection = \(name)")
            try session.execute(
                "DELETE FROM checkpoint WHERE name = \(name) OR starts_with(name, \(name + "#"))")
            try session.execute("DELETE FROM collection_sync WHERE collection = \(name)")
        }
    }

    // MARK: Freshness

    public func collectionsAsOf() throws(StoreError) -> [String: Date] {
        try run("read how fresh collections are") {
            try read { session in
                var out: [String: Date] = [:]
                for row in try session.rows("SELECT collection, asOf FROM collection_sync") {
                    out[try row.decode("collection")] = try row.date("asOf")
                }
                return out
            }
        }
    }

    public func lastSuccesses() throws(StoreError) -> [Int64: Date] {
        try run("read the captures' last successes") {
            try read { session in
                var out: [Int64: Date] = [:]
                for row in try session.rows("SELECT id, lastSuccessAt FROM capture WHERE lastSuccessAt IS NOT NULL") {
                    out[try row.decode("id")] = try row.date("lastSuccessAt")
                }
                return out
            }
        }
    }

    // MARK: The scheduler

    public func enqueueDueRuns(at now: Date, limit: Int) throws(StoreError) -> [JobRecord] {
        try run("queue due scheduled runs") {
            try write { session -> [JobRecord] in
                let now = try self.now(now, session)
                let due = try session.rows(
                    """
                    SELECT * FROM capture c
                    WHERE c.everyMinutes IS NOT NULL AND NOT c.paused
                      AND (c.nextRunAt IS NULL OR c.nextRunAt <= \(now.timeIntervalSince1970))
                      AND NOT EXISTS (SELECT 1 FROM job j WHERE j.captureID = c.id AND j.state IN ('queued', 'running'))
                    ORDER BY c.nextRunAt, c.id LIMIT \(max(0, limit))
                    FOR UPDATE OF c SKIP LOCKED
                    """
                ).map(CaptureRecord.init(row:))
                var queued: [JobRecord] = []
                for capture in due {
                    let bindings = capture.resources.map { BindingProgress(name: capture.collection(for: $0), resource: $0) }
                    let life = JobLife(createdAt: now)
                    // A host whose snapshot predates another's queueing finds the index taken: no second run.
                    guard
                        let row = try session.one(
                            """
                            INSERT INTO job (captureID, state, createdAt, requestedBy, progress)
                            VALUES (\(capture.id), \(life.state.rawValue), \(now.timeIntervalSince1970), \(scheduledJobRequester),
                                    \(try encode(bindings)))
                            ON CONFLICT (captureID) WHERE state IN ('queued', 'running') DO NOTHING
                            RETURNING *
                            """)
                    else { continue }
                    // Due again only once this run ends (set in the transaction that ends it).
                    try session.execute("UPDATE capture SET nextRunAt = NULL WHERE id = \(capture.id)")
                    let job = try JobRecord(row: row)
                    try Self.appendAudit(
                        .jobStarted(job, captureName: capture.name, scheduled: capture.schedule, by: scheduledJobRequester),
                        at: now, session: session)
                    queued.append(job)
                }
                return queued
            }
        }
    }

    @discardableResult
    public func catchUpMissedRuns(at now: Date, grace: Double, spread: Double) throws(StoreError) -> Int {
        try run("catch up missed scheduled runs") {
            try write { session -> Int in
                let now = try self.now(now, session)
                let missed = try session.rows(
                    """
                    SELECT * FROM capture c
                    WHERE c.everyMinutes IS NOT NULL AND NOT c.paused
                      AND (c.nextRunAt IS NULL OR c.nextRunAt < \(now.timeIntervalSince1970 - grace))
                      AND NOT EXISTS (SELECT 1 FROM job j WHERE j.captureID = c.id AND j.state IN ('queued', 'running'))
                    FOR UPDATE OF c SKIP LOCKED
                    """
                ).map(CaptureRecord.init(row:))
                for capture in missed {
                    let at = capture.schedule.catchUp(captureID: capture.id, now: now, spread: spread)
                    try session.execute("UPDATE capture SET nextRunAt = \(at.timeIntervalSince1970) WHERE id = \(capture.id)")
                }
                return missed.count
            }
        }
    }

    private static func nextRun(of capture: CaptureRecord, activeJob: Bool, now: Date, session: Session) throws -> Date? {
        guard capture.schedule.isActive, !activeJob else { return nil }
        let lastEnd = try session.one(
            "SELECT MAX(finishedAt) AS last FROM job WHERE captureID = \(capture.id) AND finishedAt IS NOT NULL"
        )?.decode("last", as: Double?.self)
        guard let lastEnd, let next = capture.schedule.nextRun(afterRunEndedAt: Date(timeIntervalSince1970: lastEnd))
        else { return now }
        return max(next, now)
    }

    // MARK: Hooks of the job transactions

    static func jobEnded(_ job: JobRecord, session: Session) throws {
        let end = job.life.finishedAt ?? Date()
        if let row = try session.one("SELECT * FROM capture WHERE id = \(job.captureID) FOR UPDATE") {
            let capture = try CaptureRecord(row: row)
            try session.execute(
                """
                UPDATE capture SET nextRunAt = \(capture.schedule.nextRun(afterRunEndedAt: end)?.timeIntervalSince1970)
                WHERE id = \(capture.id)
                """)
            if job.life.state == .succeeded {
                try session.execute("UPDATE capture SET lastSuccessAt = \(end.timeIntervalSince1970) WHERE id = \(capture.id)")
            }
            for binding in job.bindings where binding.done {
                try session.execute(
                    """
                    INSERT INTO collection_sync (collection, captureID, asOf)
                    VALUES (\(binding.name), \(capture.id), \(end.timeIntervalSince1970))
                    ON CONFLICT (collection) DO UPDATE SET captureID = excluded.captureID, asOf = excluded.asOf
                    """)
            }
        }
        try leftRunning(job, session: session)
    }

    static func leftRunning(_ job: JobRecord, session: Session) throws {
        try session.execute(
            """
            DELETE FROM company_lease
            WHERE company = (SELECT c.frontCompany FROM capture c JOIN job j ON j.captureID = c.id WHERE j.id = \(job.id))
              AND runner = (SELECT runner FROM job WHERE id = \(job.id))
              AND NOT EXISTS (
                  SELECT 1 FROM job o JOIN capture oc ON oc.id = o.captureID
                  WHERE o.state = 'running' AND o.id != \(job.id) AND o.runner = company_lease.runner
                    AND oc.frontCompany = company_lease.company)
            """)
    }

    static func renewCompanyLease(_ job: JobRecord, session: Session) throws {
        guard let expires = job.life.lease?.expiresAt else { return }
        try session.execute(
            """
            UPDATE company_lease SET expiresAt = GREATEST(expiresAt, \(expires.timeIntervalSince1970))
            WHERE company = (SELECT c.frontCompany FROM capture c JOIN job j ON j.captureID = c.id WHERE j.id = \(job.id))
              AND runner = (SELECT runner FROM job WHERE id = \(job.id))
            """)
    }

    static func takeCompany(of captureID: Int64, runner: String, now: Date, until: Date, session: Session) throws -> Bool {
        guard
            let company = try session.one("SELECT frontCompany FROM capture WHERE id = \(captureID)")?
                .decode("frontCompany", as: String?.self)
        else { return true }
        return try takeLease(company, runner: runner, now: now, until: until, session: session)
    }

    /// One statement, so two hosts taking one company's lease at once see each other: the
    /// second waits for the first's row, then updates it only if it is its own or has lapsed.
    private static func takeLease(_ company: String, runner: String, now: Date, until: Date, session: Session) throws -> Bool {
        try session.one(
            """
            INSERT INTO company_lease AS l (company, runner, expiresAt) VALUES (\(company), \(runner), \(until.timeIntervalSince1970))
            ON CONFLICT (company) DO UPDATE SET runner = excluded.runner, expiresAt = GREATEST(
                CASE WHEN l.runner = excluded.runner THEN l.expiresAt ELSE 0 END, excluded.expiresAt)
            WHERE l.runner = excluded.runner OR l.expiresAt <= \(now.timeIntervalSince1970)
            RETURNING runner
            """) != nil
    }

    public func takeCompanyLease(
        jobID: Int64, token: String, company: String, leaseFor: Duration, at now: Date
    ) throws(StoreError) -> Bool {
        try run("take the lease of Front company \(company)") {
            try write { session -> Bool in
                let now = try self.now(now, session)
                guard let row = try session.one("SELECT * FROM job WHERE id = \(jobID) FOR UPDATE") else { return false }
                let job = try JobRecord(row: row)
                guard job.life.state == .running, job.life.lease?.token == token else { return false }
                try session.execute("UPDATE capture SET frontCompany = \(company) WHERE id = \(job.captureID)")
                let runner = try row.decode("runner", as: String?.self) ?? ""
                return try Self.takeLease(
                    company, runner: runner, now: now, until: now.addingTimeInterval(leaseFor.inSeconds), session: session)
            }
        }
    }
}
