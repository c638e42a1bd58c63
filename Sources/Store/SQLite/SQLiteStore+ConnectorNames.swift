import Foundation
import GRDB

extension SQLiteStore {
    static func registerConnectorNames(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("connector-names-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE connector_name (
                        connectorID TEXT PRIMARY KEY NOT NULL,
                        displayName TEXT NOT NULL,
                        createdBy TEXT,
                        createdAt DOUBLE NOT NULL
                    );
                    """)
        }
    }

    /// Records (or replaces) the display name of a connector.
    public func setConnectorName(_ name: String, for connectorID: String, by user: String?, at time: Date)
        throws(StoreError)
    {
        do {
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO connector_name (connectorID, displayName, createdBy, createdAt) VALUES (?, ?, ?, ?)
                        ON CONFLICT(connectorID) DO UPDATE SET displayName = excluded.displayName
                        """,
                    arguments: [connectorID, name, user, time.timeIntervalSince1970])
            }
        } catch {
            throw StoreError(path: path, action: "save a connector's name", underlying: error)
        }
    }

    /// Every display name, by connector id.
    public func connectorNames() throws(StoreError) -> [String: String] {
        do {
            return try read { db in
                var names: [String: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT connectorID, displayName FROM connector_name") {
                    names[row["connectorID"]] = row["displayName"]
                }
                return names
            }
        } catch {
            throw StoreError(path: path, action: "read connectors' names", underlying: error)
        }
    }

    @discardableResult
    public func removeConnectorName(for connectorID: String) throws(StoreError) -> Bool {
        do {
            return try pool.write { db in
                try db.execute(sql: "DELETE FROM connector_name WHERE connectorID = ?", arguments: [connectorID])
                return db.changesCount > 0
            }
        } catch {
            throw StoreError(path: path, action: "forget the name of connector \(connectorID)", underlying: error)
        }
    }
}
