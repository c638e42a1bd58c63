import Foundation
import Model
import PostgresNIO

// The job queue. Every move of a job loads its row `FOR UPDATE` and saves it only if it is still
// as loaded (the same compare-and-swap as SQLite's), so hosts racing for one job agree on one
// winner; a claim skips rows another host has locked (`SKIP LOCKED`) instead of queueing on them.
extension PostgresStore {
    public func enqueueJob(
        captureID: Int64, requestedBy: String?, bindings: [BindingProgress], at now: Date
    ) throws(StoreError) -> EnqueueResult {
        try run("queue a job for capture \(captureID)") {
            try write { session in
                let now = try self.now(now, session)
                let life = JobLife(createdAt: now)
                // The unique index of active jobs decides between hosts queueing at once.
                if let row = try session.one(
                    """
                    INSERT INTO job (captureID, state, createdAt, requestedBy, progress)
                    VALUES (\(captureID), \(life.state.rawValue), \(now.timeIntervalSince1970), \(requestedBy),
                            \(try encode(bindings)))
                    ON CONFLICT (captureID) WHERE state IN ('queued', 'running') DO NOTHING
                    RETURNING *
                    """)
                {
                    let job = try JobRecord(row: row)
                    let name = try session.one("SELECT name FROM capture WHERE id = \(captureID)")?.decode(
                        "name", as: String.self)
                    try Self.appendAudit(.jobStarted(job, captureName: name, by: requestedBy), at: now, session: session)
                    return .queued(job)
                }
                guard let active = try Self.activeJob(of: captureID, session: session) else { throw RowVanished(table: "job") }
                return .alreadyActive(active)
            }
        }
    }

    public func claimJob(
        token: String, runner: String, leaseFor: Duration, maxAttempts: Int, at now: Date
    ) throws(StoreError) -> JobRecord? {
        try run("claim a job") {
            try write { session -> JobRecord? in
                let now = try self.now(now, session)
                let stamp = now.timeIntervalSince1970
                let rows = try session.rows(
                    """
                    SELECT * FROM job
                    WHERE (state = 'queued' OR (state = 'running' AND (leaseExpiresAt IS NULL OR leaseExpiresAt <= \(stamp))))
                      AND NOT EXISTS (
                          SELECT 1 FROM capture c JOIN company_lease l ON l.company = c.frontCompany
                          WHERE c.id = job.captureID AND l.runner != \(runner) AND l.expiresAt > \(stamp))
                    ORDER BY id LIMIT 20
                    FOR UPDATE SKIP LOCKED
                    """)
                for row in rows {
                    var job = try JobRecord(row: row)
                    let before = job.life
                    guard job.life.isClaimable(at: now) else { continue }
                    // Another runner spends this company's budget now: leave the job to it.
                    let until = now.addingTimeInterval(leaseFor.inSeconds)
                    guard try Self.takeCompany(of: job.captureID, runner: runner, now: now, until: until, session: session)
                    else { continue }
                    try session.execute("UPDATE job SET runner = \(runner) WHERE id = \(job.id)")
                    let result = try job.life.claim(token: token, now: now, leaseFor: leaseFor, maxAttempts: maxAttempts)
                    guard try Self.save(job, replacing: before, session: session) else { continue }
                    if result == .claimed { return job }
                }
                return nil
            }
        }
    }

    public func heartbeat(
        jobID: Int64, token: String, leaseFor: Duration, bindings: [BindingProgress]?, at now: Date
    ) throws(StoreError) -> HeartbeatAnswer {
        try update(jobID, at: now, action: "renew the lease of job \(jobID)") { job, now in
            let cancel = try job.life.heartbeat(token: token, now: now, leaseFor: leaseFor)
            if let bindings { job.bindings = bindings }
            return cancel ? .cancelRequested : .keepGoing
        } lost: {
            .lost
        }
    }

    @discardableResult
    public func finishJob(
        jobID: Int64, token: String, outcome: JobOutcome, bindings: [BindingProgress]?, at now: Date
    ) throws(StoreError) -> Bool {
        try update(jobID, at: now, action: "finish job \(jobID)") { job, now in
            try job.life.finish(outcome, token: token, now: now)
            if let bindings { job.bindings = bindings }
            return true
        } lost: {
            false
        }
    }

    @discardableResult
    public func releaseJob(jobID: Int64, token: String, bindings: [BindingProgress]?) throws(StoreError) -> Bool {
        try update(jobID, at: Date(), action: "release job \(jobID)") { job, _ in
            try job.life.release(token: token)
            if let bindings { job.bindings = bindings }
            return true
        } lost: {
            false
        }
    }

    @discardableResult
    public func removeOldJobs(captureID: Int64, keeping: Int) throws(StoreError) -> Int {
        let ended = JobState.allCases.filter(\.isFinal).map(\.rawValue)
        return try run("remove old jobs of capture \(captureID)") {
            try write { session in
                try session.execute(
                    """
                    DELETE FROM job WHERE captureID = \(captureID) AND state = ANY(\(ended)) AND id NOT IN (
                        SELECT id FROM job WHERE captureID = \(captureID) AND state = ANY(\(ended))
                        ORDER BY id DESC LIMIT \(max(0, keeping)))
                    """)
            }
        }
    }

    public func requestCancel(
        jobID: Int64, by actor: String?, at now: Date
    ) throws(StoreError) -> (JobRecord, JobLife.CancelResult)? {
        try run("cancel job \(jobID)") {
            try write { session -> (JobRecord, JobLife.CancelResult)? in
                let now = try self.now(now, session)
                guard let row = try session.one("SELECT * FROM job WHERE id = \(jobID) FOR UPDATE") else { return nil }
                var job = try JobRecord(row: row)
                let before = job.life
                let result = job.life.requestCancel(now: now)
                if job.life != before, try Self.save(job, replacing: before, session: session) {
                    let name = try session.one("SELECT name FROM capture WHERE id = \(job.captureID)")?.decode(
                        "name", as: String.self)
                    if let entry = NewAuditEntry.jobCancelled(job, captureName: name, result: result, by: actor) {
                        try Self.appendAudit(entry, at: now, session: session)
                    }
                }
                return (job, result)
            }
        }
    }

    // MARK: Reads

    public func job(id: Int64) throws(StoreError) -> JobRecord? {
        try run("read job \(id)") {
            try read { session in try session.one("SELECT * FROM job WHERE id = \(id)").map(JobRecord.init(row:)) }
        }
    }

    public func jobs(_ filter: JobFilter) throws(StoreError) -> [JobRecord] {
        // An empty state list means every state; NULL parameters switch a condition off.
        let states: [String]? = filter.states.isEmpty ? nil : filter.states.map(\.rawValue)
        return try run("list jobs") {
            try read { session in
                try session.rows(
                    """
                    SELECT * FROM job
                    WHERE (\(filter.captureID)::bigint IS NULL OR captureID = \(filter.captureID))
                      AND (\(states)::text[] IS NULL OR state = ANY(\(states)))
                    ORDER BY id DESC LIMIT \(max(0, filter.limit)) OFFSET \(max(0, filter.offset))
                    """
                ).map(JobRecord.init(row:))
            }
        }
    }

    public func latestJobs() throws(StoreError) -> [Int64: JobRecord] {
        try run("list jobs") {
            try read { session in
                var out: [Int64: JobRecord] = [:]
                for row in try session.rows("SELECT DISTINCT ON (captureID) * FROM job ORDER BY captureID, id DESC") {
                    let job = try JobRecord(row: row)
                    out[job.captureID] = job
                }
                return out
            }
        }
    }

    public func jobCounts() throws(StoreError) -> [JobState: Int] {
        try run("count jobs") {
            try read { session in
                var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
                for row in try session.rows("SELECT state, COUNT(*) AS n FROM job GROUP BY state") {
                    if let state = JobState(rawValue: try row.decode("state")) {
                        counts[state] = Int(try row.decode("n", as: Int64.self))
                    }
                }
                return counts
            }
        }
    }

    // MARK: Plumbing

    /// Loads a job `FOR UPDATE`, lets `change` move it (a `JobTransitionError` means the caller
    /// lost it), and saves it only if the row is still as loaded.
    private func update<T>(
        _ jobID: Int64, at now: Date, action: String, _ change: @escaping (inout JobRecord, Date) throws -> T,
        lost: @escaping () -> T
    ) throws(StoreError) -> T {
        try run(action) {
            try write { session -> T in
                let now = try self.now(now, session)
                guard let row = try session.one("SELECT * FROM job WHERE id = \(jobID) FOR UPDATE") else { return lost() }
                var job = try JobRecord(row: row)
                let before = job.life
                let answer: T
                do {
                    answer = try change(&job, now)
                } catch is JobTransitionError {
                    return lost()
                }
                guard try Self.save(job, replacing: before, session: session) else { return lost() }
                return answer
            }
        }
    }

    /// Writes a job back only if its row still holds `before`'s state and lease, then runs the
    /// hooks of the capture it belongs to, as SQLite's `save` does.
    static func save(_ job: JobRecord, replacing before: JobLife, session: Session) throws -> Bool {
        let life = job.life
        let changed = try session.execute(
            """
            UPDATE job SET state = \(life.state.rawValue), startedAt = \(life.startedAt?.timeIntervalSince1970),
                finishedAt = \(life.finishedAt?.timeIntervalSince1970), leaseToken = \(life.lease?.token),
                leaseExpiresAt = \(life.lease?.expiresAt.timeIntervalSince1970), cancelRequested = \(life.cancelRequested),
                attempts = \(Int64(life.attempts)), handBacks = \(Int64(life.handBacks)), error = \(life.error),
                progress = \(try encode(job.bindings))
            WHERE id = \(job.id) AND state = \(before.state.rawValue) AND leaseToken IS NOT DISTINCT FROM \(before.lease?.token)
            """)
        guard changed == 1 else { return false }
        if life.state.isFinal && !before.state.isFinal {
            try jobEnded(job, session: session)
        } else if before.state == .running && life.state != .running {
            try leftRunning(job, session: session)
        } else if life.state == .running {
            try renewCompanyLease(job, session: session)
        }
        return true
    }

    static func activeJob(of captureID: Int64, session: Session) throws -> JobRecord? {
        try session.one("SELECT * FROM job WHERE captureID = \(captureID) AND state IN ('queued', 'running')")
            .map(JobRecord.init(row:))
    }
}

extension JobRecord {
    init(row: PGRow) throws {
        let token = try row.decode("leaseToken", as: String?.self)
        let expires = try row.decode("leaseExpiresAt", as: Double?.self)
        let life = JobLife(
            state: JobState(rawValue: try row.decode("state")) ?? .failed, createdAt: try row.date("createdAt"),
            startedAt: try row.optionalDate("startedAt"), finishedAt: try row.optionalDate("finishedAt"),
            lease: token.map { JobLease(token: $0, expiresAt: Date(timeIntervalSince1970: expires ?? 0)) },
            cancelRequested: try row.decode("cancelRequested"), attempts: Int(try row.decode("attempts", as: Int64.self)),
            handBacks: Int(try row.decode("handBacks", as: Int64.self)), error: try row.decode("error"))
        let data = try row.decode("progress", as: Data?.self) ?? Data("[]".utf8)
        self.init(
            id: try row.decode("id"), captureID: try row.decode("captureID"), life: life,
            requestedBy: try row.decode("requestedBy"),
            bindings: (try? JSONDecoder().decode([BindingProgress].self, from: data)) ?? [])
    }
}
