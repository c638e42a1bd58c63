import Foundation
import GRDB
import Model

extension SQLiteStore {
    static func registerAPITokenMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("api-tokens-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_token (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL,
                        sha256 TEXT NOT NULL UNIQUE,
                        hint TEXT NOT NULL,
                        createdAt DOUBLE NOT NULL,
                        lastUsedAt DOUBLE,
                        revokedAt DOUBLE
                    );
                    """)
        }
    }

    /// Saves a new token's hash (the token itself is never stored) and its audit entry.
    public func insertAPIToken(
        name: String, sha256: String, hint: String, by actor: String?, at now: Date
    ) throws(StoreError) -> APITokenRecord {
        do {
            return try pool.write { db in
                try db.execute(
                    sql: "INSERT INTO api_token (name, sha256, hint, createdAt) VALUES (?, ?, ?, ?)",
                    arguments: [name, sha256, hint, now.timeIntervalSince1970])
                guard
                    let row = try Row.fetchOne(db, sql: "SELECT * FROM api_token WHERE id = ?", arguments: [db.lastInsertedRowID])
                else { throw RowVanished(table: "api_token") }
                let token = APITokenRecord(row: row)
                try Self.appendAudit(.tokenCreated(id: token.id, name: token.name, by: actor), at: now, db: db)
                return token
            }
        } catch {
            throw StoreError(path: path, action: "save API token \(name)", underlying: error)
        }
    }

    /// Every token, newest first, revoked ones included.
    public func apiTokens() throws(StoreError) -> [APITokenRecord] {
        do {
            return try read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM api_token ORDER BY id DESC").map(APITokenRecord.init(row:))
            }
        } catch {
            throw StoreError(path: path, action: "list API tokens", underlying: error)
        }
    }

    /// The live (not revoked) token with this hash, marked as used now. The lookup is a read:
    /// an unknown token (a guess, a scan) never takes the write lock; only a known one writes,
    /// at most once a minute, its "last used" time.
    public func useAPIToken(sha256: String, at now: Date) throws(StoreError) -> APITokenRecord? {
        do {
            guard
                let token = try read({ db in
                    try Row.fetchOne(
                        db, sql: "SELECT * FROM api_token WHERE sha256 = ? AND revokedAt IS NULL", arguments: [sha256]
                    ).map(APITokenRecord.init(row:))
                })
            else { return nil }
            if (token.lastUsedAt.map { now.timeIntervalSince($0) > 60 }) ?? true {
                try pool.write { db in
                    try db.execute(
                        sql: "UPDATE api_token SET lastUsedAt = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, token.id])
                }
            }
            return token
        } catch {
            throw StoreError(path: path, action: "check an API token", underlying: error)
        }
    }

    /// Revokes a token, with its audit entry; false when there is no live token with this id
    /// (nothing changed, so no entry).
    @discardableResult
    public func revokeAPIToken(id: Int64, by actor: String?, at now: Date) throws(StoreError) -> Bool {
        do {
            return try pool.write { db in
                try db.execute(
                    sql: "UPDATE api_token SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL",
                    arguments: [now.timeIntervalSince1970, id])
                guard db.changesCount == 1 else { return false }
                let name = try String.fetchOne(db, sql: "SELECT name FROM api_token WHERE id = ?", arguments: [id]) ?? ""
                try Self.appendAudit(.tokenRevoked(id: id, name: name, by: actor), at: now, db: db)
                return true
            }
        } catch {
            throw StoreError(path: path, action: "revoke API token \(id)", underlying: error)
        }
    }

    /// How many live tokens there are (`scripts/run` creates one when there are none).
    public func liveAPITokenCount() throws(StoreError) -> Int {
        do {
            return try read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_token WHERE revokedAt IS NULL") ?? 0
            }
        } catch {
            throw StoreError(path: path, action: "count API tokens", underlying: error)
        }
    }
}

extension APITokenRecord {
    init(row: Row) {
        self.init(
            id: row["id"], name: row["name"], hint: row["hint"], createdAt: Date(timeIntervalSince1970: row["createdAt"]),
            lastUsedAt: (row["lastUsedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            revokedAt: (row["revokedAt"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }
}
