import Foundation
import GRDB
import Model

extension SQLiteStore {
    static func registerCaptureMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("captures-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE capture (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        prefix TEXT NOT NULL UNIQUE,
                        sealedToken BLOB NOT NULL,
                        tokenHint TEXT NOT NULL,
                        startDate DOUBLE,
                        resources TEXT NOT NULL,
                        createdAt DOUBLE NOT NULL,
                        createdBy TEXT
                    );
                    """)
        }
    }

    /// Saves a capture, and its audit entry in the same transaction; a name or collection
    /// prefix already taken is `.nameTaken`, and writes neither.
    public func insertCapture(_ capture: NewCapture, by actor: String?, at now: Date) throws(StoreError) -> CaptureRecord {
        do {
            return try pool.write { db in
                if try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM capture WHERE name = ? OR prefix = ?", arguments: [capture.name, capture.prefix])
                    == true
                {
                    throw StoreError.Conflict.nameTaken
                }
                try db.execute(
                    sql: """
                        INSERT INTO capture (name, prefix, sealedToken, tokenHint, startDate, resources, createdAt, createdBy,
                            everyMinutes, paused, nextRunAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        capture.name, capture.prefix, capture.sealedToken, capture.tokenHint,
                        capture.startDate?.timeIntervalSince1970, capture.resources.sorted().joined(separator: ","),
                        now.timeIntervalSince1970, capture.createdBy, capture.schedule.everyMinutes, capture.schedule.paused,
                        capture.schedule.isActive ? now.timeIntervalSince1970 : nil,
                    ])
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM capture WHERE id = ?", arguments: [db.lastInsertedRowID])
                else { throw RowVanished(table: "capture") }
                let saved = CaptureRecord(row: row)
                try Self.appendAudit(.captureCreated(saved, by: actor), at: now, db: db)
                return saved
            }
        } catch let conflict as StoreError.Conflict {
            throw StoreError(path: path, action: "save capture \(capture.name)", underlying: conflict)
        } catch {
            throw StoreError(path: path, action: "save capture \(capture.name)", underlying: error)
        }
    }

    public func captures() throws(StoreError) -> [CaptureRecord] {
        do {
            return try read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM capture ORDER BY name COLLATE NOCASE").map(CaptureRecord.init(row:))
            }
        } catch {
            throw StoreError(path: path, action: "list captures", underlying: error)
        }
    }

    public func capture(id: Int64) throws(StoreError) -> CaptureRecord? {
        do {
            return try read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM capture WHERE id = ?", arguments: [id]).map(CaptureRecord.init(row:))
            }
        } catch {
            throw StoreError(path: path, action: "read capture \(id)", underlying: error)
        }
    }
}

extension CaptureRecord {
    init(row: Row) {
        self.init(
            id: row["id"], name: row["name"], prefix: row["prefix"], sealedToken: row["sealedToken"],
            tokenHint: row["tokenHint"], startDate: (row["startDate"] as Double?).map(Date.init(timeIntervalSince1970:)),
            resources: (row["resources"] as String).split(separator: ",").map(String.init),
            createdAt: Date(timeIntervalSince1970: row["createdAt"]), createdBy: row["createdBy"],
            schedule: CaptureSchedule(everyMinutes: row["everyMinutes"], paused: row["paused"] ?? false),
            nextRunAt: (row["nextRunAt"] as Double?).map(Date.init(timeIntervalSince1970:)), frontCompany: row["frontCompany"])
    }
}
