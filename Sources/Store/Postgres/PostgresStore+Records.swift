import Foundation
import Model
import PostgresNIO

// Captures, API tokens, connector names and the audit: rows written by one person's action at a
// time, each with its audit entry in the same transaction (as SQLite's).
extension PostgresStore {
    // MARK: Captures

    public func insertCapture(_ capture: NewCapture, by actor: String?, at now: Date) throws(StoreError) -> CaptureRecord {
        try run("save capture \(capture.name)") {
            try write { session in
                let now = try self.now(now, session)
                if try session.one("SELECT 1 AS taken FROM capture WHERE name = \(capture.name) OR prefix = \(capture.prefix)")
                    != nil
                {
                    throw StoreError.Conflict.nameTaken
                }
                // Two hosts saving one name at once: the unique constraints refuse the second
                // (`failure` reads that as `nameTaken`).
                guard
                    let row = try session.one(
                        """
                        INSERT INTO capture (name, prefix, sealedToken, tokenHint, startDate, resources, createdAt, createdBy,
                            everyMinutes, paused, nextRunAt)
                        VALUES (\(capture.name), \(capture.prefix), \(capture.sealedToken), \(capture.tokenHint),
                            \(capture.startDate?.timeIntervalSince1970), \(capture.resources.sorted().joined(separator: ",")),
                            \(now.timeIntervalSince1970), \(capture.createdBy), \(capture.schedule.everyMinutes.map(Int64.init)),
                            \(capture.schedule.paused), \(capture.schedule.isActive ? now.timeIntervalSince1970 : nil))
                        RETURNING *
                        """)
                else { throw RowVanished(table: "capture") }
                let saved = try CaptureRecord(row: row)
                try Self.appendAudit(.captureCreated(saved, by: actor), at: now, session: session)
                return saved
            }
        }
    }

    public func captures() throws(StoreError) -> [CaptureRecord] {
        try run("list captures") {
            try read { session in
                try session.rows("SELECT * FROM capture ORDER BY lower(name), name").map(CaptureRecord.init(row:))
            }
        }
    }

    public func capture(id: Int64) throws(StoreError) -> CaptureRecord? {
        try run("read capture \(id)") {
            try read { session in try session.one("SELECT * FROM capture WHERE id = \(id)").map(CaptureRecord.init(row:)) }
        }
    }

    // MARK: API tokens

    public func insertAPIToken(
        name: String, sha256: String, hint: String, by actor: String?, at now: Date
    ) throws(StoreError) -> APITokenRecord {
        try run("save API token \(name)") {
            try write { session in
                let now = try self.now(now, session)
                guard
                    let row = try session.one(
                        """
                        INSERT INTO api_token (name, sha256, hint, createdAt)
                        VALUES (\(name), \(sha256), \(hint), \(now.timeIntervalSince1970)) RETURNING *
                        """)
                else { throw RowVanished(table: "api_token") }
                let token = try APITokenRecord(row: row)
                try Self.appendAudit(.tokenCreated(id: token.id, name: token.name, by: actor), at: now, session: session)
                return token
            }
        }
    }

    public func apiTokens() throws(StoreError) -> [APITokenRecord] {
        try run("list API tokens") {
            try read { session in try session.rows("SELECT * FROM api_token ORDER BY id DESC").map(APITokenRecord.init(row:)) }
        }
    }

    public func useAPIToken(sha256: String, at now: Date) throws(StoreError) -> APITokenRecord? {
        try run("check an API token") {
            guard
                let token = try read({ session in
                    try session.one("SELECT * FROM api_token WHERE sha256 = \(sha256) AND revokedAt IS NULL")
                        .map(APITokenRecord.init(row:))
                })
            else { return nil }
            // Written at most once a minute, so a busy script does not make every request a write.
            if (token.lastUsedAt.map { now.timeIntervalSince($0) > 60 }) ?? true {
                try write { session in
                    try session.execute(
                        "UPDATE api_token SET lastUsedAt = \(try self.now(now, session).timeIntervalSince1970) WHERE id = \(token.id)"
                    )
                }
            }
            return token
        }
    }

    @discardableResult
    public func revokeAPIToken(id: Int64, by actor: String?, at now: Date) throws(StoreError) -> Bool {
        try run("revoke API token \(id)") {
            try write { session in
                let now = try self.now(now, session)
                guard
                    let row = try session.one(
                        """
                        UPDATE api_token SET revokedAt = \(now.timeIntervalSince1970)
                        WHERE id = \(id) AND revokedAt IS NULL RETURNING name
                        """)
                else { return false }
                let name = try row.decode("name", as: String.self)
                try Self.appendAudit(.tokenRevoked(id: id, name: name, by: actor), at: now, session: session)
                return true
            }
        }
    }

    public func liveAPITokenCount() throws(StoreError) -> Int {
        try run("count API tokens") {
            try read { session in
                Int(
                    try session.one("SELECT COUNT(*) AS n FROM api_token WHERE revokedAt IS NULL")?.decode("n", as: Int64.self)
                        ?? 0)
            }
        }
    }

    // MARK: Connector names

    public func setConnectorName(_ name: String, for connectorID: String, by user: String?, at time: Date) throws(StoreError) {
        try run("save a connector's name") {
            try write { session in
                try session.execute(
                    """
                    INSERT INTO connector_name (connectorID, displayName, createdBy, createdAt)
                    VALUES (\(connectorID), \(name), \(user), \(try self.now(time, session).timeIntervalSince1970))
                    ON CONFLICT (connectorID) DO UPDATE SET displayName = excluded.displayName
                    """)
            }
        }
    }

    public func connectorNames() throws(StoreError) -> [String: String] {
        try run("read connectors' names") {
            try read { session in
                var names: [String: String] = [:]
                for row in try session.rows("SELECT connectorID, displayName FROM connector_name") {
                    names[try row.decode("connectorID")] = try row.decode("displayName")
                }
                return names
            }
        }
    }

    @discardableResult
    public func removeConnectorName(for connectorID: String) throws(StoreError) -> Bool {
        try run("forget the name of connector \(connectorID)") {
            try write { session in try session.execute("DELETE FROM connector_name WHERE connectorID = \(connectorID)") > 0 }
        }
    }

    // MARK: The audit

    @discardableResult
    public func appendAudit(_ entry: NewAuditEntry, at now: Date) throws(StoreError) -> AuditEntry {
        try run("append to the audit") {
            try write { session in try Self.appendAudit(entry, at: try self.now(now, session), session: session) }
        }
    }

    @discardableResult
    static func appendAudit(_ entry: NewAuditEntry, at now: Date, session: Session) throws -> AuditEntry {
        guard
            let row = try session.one(
                """
                INSERT INTO audit (at, actor, action, object, detail, error)
                VALUES (\(now.timeIntervalSince1970), \(entry.actor), \(entry.action.rawValue), \(entry.object), \(entry.detail),
                        \(entry.error))
                RETURNING id
                """)
        else { throw RowVanished(table: "audit") }
        return AuditEntry(
            id: try row.decode("id"), at: now, actor: entry.actor, action: entry.action, object: entry.object,
            detail: entry.detail, error: entry.error)
    }

    public func auditEntries(_ filter: AuditFilter) throws(StoreError) -> [AuditEntry] {
        // Only actions this version knows (a newer one may have written others), as SQLite's.
        let actions = filter.action.map { [$0.rawValue] } ?? AuditAction.allCases.map(\.rawValue)
        return try run("read the audit") {
            try read { session in
                try session.rows(
                    """
                    SELECT * FROM audit
                    WHERE (\(filter.object)::text IS NULL OR object = \(filter.object))
                      AND (\(filter.actor)::text IS NULL OR actor = \(filter.actor))
                      AND action = ANY(\(actions))
                    ORDER BY at DESC, id DESC LIMIT \(max(0, filter.limit)) OFFSET \(max(0, filter.offset))
                    """
                ).compactMap(AuditEntry.init(row:))
            }
        }
    }

    @discardableResult
    public func removeAudit(olderThan cutoff: Date) throws(StoreError) -> Int {
        try run("remove old audit entries") {
            try write { session in try session.execute("DELETE FROM audit WHERE at < \(cutoff.timeIntervalSince1970)") }
        }
    }
}

extension CaptureRecord {
    init(row: PGRow) throws {
        self.init(
            id: try row.decode("id"), name: try row.decode("name"), prefix: try row.decode("prefix"),
            sealedToken: try row.decode("sealedToken"), tokenHint: try row.decode("tokenHint"),
            startDate: try row.optionalDate("startDate"),
            resources: try row.decode("resources", as: String.self).split(separator: ",").map(String.init),
            createdAt: try row.date("createdAt"), createdBy: try row.decode("createdBy"),
            schedule: CaptureSchedule(
                everyMinutes: try row.decode("everyMinutes", as: Int64?.self).map { Int(clamping: $0) },
                paused: try row.decode("paused")),
            nextRunAt: try row.optionalDate("nextRunAt"), frontCompany: try row.decode("frontCompany"))
    }
}

extension APITokenRecord {
    init(row: PGRow) throws {
        self.init(
            id: try row.decode("id"), name: try row.decode("name"), hint: try row.decode("hint"),
            createdAt: try row.date("createdAt"), lastUsedAt: try row.optionalDate("lastUsedAt"),
            revokedAt: try row.optionalDate("revokedAt"))
    }
}

extension AuditEntry {
    init?(row: PGRow) throws {
        guard let action = AuditAction(rawValue: try row.decode("action")) else { return nil }
        self.init(
            id: try row.decode("id"), at: try row.date("at"), actor: try row.decode("actor"), action: action,
            object: try row.decode("object"), detail: try row.decode("detail"), error: try row.decode("error"))
    }
}
