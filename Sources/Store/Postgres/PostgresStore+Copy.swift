import Foundation
import GRDB
import PostgresNIO

/// How many rows of one table an SQLite database had and a PostgreSQL one holds after the copy.
public struct TableCount: Sendable, Equatable {
    public var table: String
    public var source: Int
    public var copied: Int

    public var matches: Bool { source == copied }
}

// `switchboard migrate`: an SQLite database copied into an empty PostgreSQL one, row for row and
// id for id, in one PostgreSQL transaction (all of it lands or none), read from one SQLite
// snapshot (a consistent picture even if a worker still wrote meanwhile).
extension PostgresStore {
    /// What a column holds, so each value is bound as the PostgreSQL column's type (SQLite keeps
    /// booleans as integers and documents as bytes; PostgreSQL wants `boolean` and `jsonb`).
    enum ColumnKind { case integer, double, text, bytes, boolean, json }

    /// The tables copied, parents first, with their columns as both schemas name them. The
    /// company leases are left behind: they lapse within seconds and the next runner takes them.
    static let copiedTables: [(table: String, order: String, columns: [(String, ColumnKind)])] = [
        (
            "capture", "id",
            [
                ("id", .integer), ("name", .text), ("prefix", .text), ("sealedToken", .bytes), ("tokenHint", .text),
                ("startDate", .double), ("resources", .text), ("createdAt", .double), ("createdBy", .text),
                ("everyMinutes", .integer), ("paused", .boolean), ("nextRunAt", .double), ("frontCompany", .text),
                ("lastSuccessAt", .double),
            ]
        ),
        (
            "job", "id",
            [
                ("id", .integer), ("captureID", .integer), ("state", .text), ("createdAt", .double), ("startedAt", .double),
                ("finishedAt", .double), ("leaseToken", .text), ("leaseExpiresAt", .double), ("cancelRequested", .boolean),
                ("attempts", .integer), ("handBacks", .integer), ("error", .text), ("requestedBy", .text),
                ("progress", .bytes), ("runner", .text),
            ]
        ),
        (
            "document", "collection, key",
            [
                ("collection", .text), ("key", .text), ("json", .json), ("sourceTime", .double), ("deleted", .boolean),
                ("updatedAt", .double),
            ]
        ),
        ("checkpoint", "name", [("name", .text), ("state", .bytes), ("updatedAt", .double)]),
        (
            "api_token", "id",
            [
                ("id", .integer), ("name", .text), ("sha256", .text), ("hint", .text), ("createdAt", .double),
                ("lastUsedAt", .double), ("revokedAt", .double),
            ]
        ),
        (
            "connector_name", "connectorID",
            [("connectorID", .text), ("displayName", .text), ("createdBy", .text), ("createdAt", .double)]
        ),
        ("collection_sync", "collection", [("collection", .text), ("captureID", .integer), ("asOf", .double)]),
        (
            "audit", "id",
            [
                ("id", .integer), ("at", .double), ("actor", .text), ("action", .text), ("object", .text), ("detail", .text),
                ("error", .text),
            ]
        ),
    ]

    /// Copies every table of `source` here, then counts both sides. Refuses (writing nothing)
    /// when this database already holds rows: a copy into a used database would mix two
    /// histories. `progress` hears each table's name and rows as they are copied.
    public func copy(
        from source: SQLiteStore, batch: Int = 500, progress: (String, Int) -> Void = { _, _ in }
    ) throws(StoreError) -> [TableCount] {
        try run("copy \(source.path) into PostgreSQL") {
            try source.pool.read { sqlite in
                try write { session in
                    let held = try Self.copiedTables.map { table in
                        (table.table, try Self.count(table.table, session))
                    }.filter { $0.1 > 0 }
                    if !held.isEmpty { throw DatabaseNotEmpty(tables: held) }
                    var counts: [TableCount] = []
                    for table in Self.copiedTables {
                        var copied = 0
                        let names = table.columns.map(\.0)
                        let cursor = try GRDB.Row.fetchCursor(
                            sqlite, sql: "SELECT \(names.joined(separator: ", ")) FROM \(table.table) ORDER BY \(table.order)")
                        var rows: [GRDB.Row] = []
                        func flush() throws {
                            guard !rows.isEmpty else { return }
                            try Self.insert(rows, into: table.table, columns: table.columns, session: session)
                            copied += rows.count
                            progress(table.table, copied)
                            rows.removeAll(keepingCapacity: true)
                        }
                        while let row = try cursor.next() {
                            rows.append(row.copy())
                            if rows.count >= max(1, batch) { try flush() }
                        }
                        try flush()
                        // Ids were copied as they were: the next one made here follows the last.
                        if table.columns.contains(where: { $0.0 == "id" }) {
                            try session.execute(
                                PostgresQuery(
                                    unsafeSQL: """
                                        SELECT setval(pg_get_serial_sequence('\(table.table)', 'id'),
                                                      COALESCE((SELECT MAX(id) FROM \(table.table)), 0) + 1, false)
                                        """))
                        }
                        let sourceCount = try Int.fetchOne(sqlite, sql: "SELECT COUNT(*) FROM \(table.table)") ?? 0
                        counts.append(
                            TableCount(table: table.table, source: sourceCount, copied: try Self.count(table.table, session)))
                    }
                    if counts.contains(where: { !$0.matches }) { throw CopyMismatch(counts: counts) }
                    return counts
                }
            }
        }
    }

    private static func count(_ table: String, _ session: Session) throws -> Int {
        Int(try session.one(PostgresQuery(unsafeSQL: "SELECT COUNT(*) AS n FROM \(table)"))?.decode("n", as: Int64.self) ?? 0)
    }

    /// One multi-row INSERT for a batch, every value bound as its column's type.
    private static func insert(
        _ rows: [GRDB.Row], into table: String, columns: [(String, ColumnKind)], session: Session
    ) throws {
        var bindings = PostgresBindings(capacity: rows.count * columns.count)
        var tuples: [String] = []
        for row in rows {
            var placeholders: [String] = []
            for (name, kind) in columns {
                switch kind {
                case .integer: bindings.append(row[name] as Int64?)
                case .double: bindings.append(row[name] as Double?)
                case .text: bindings.append(row[name] as String?)
                case .bytes: try bindings.append(row[name] as Data?)
                case .boolean: bindings.append(row[name] as Bool?)
                case .json: bindings.append((row[name] as Data?).map { String(decoding: $0, as: UTF8.self) })
                }
                placeholders.append("$\(bindings.count)" + (kind == .json ? "::jsonb" : ""))
            }
            tuples.append("(" + placeholders.joined(separator: ", ") + ")")
        }
        let sql = "INSERT INTO \(table) (\(columns.map(\.0).joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))"
        try session.execute(PostgresQuery(unsafeSQL: sql, binds: bindings))
    }
}

struct DatabaseNotEmpty: Error, CustomStringConvertible {
    let tables: [(String, Int)]
    var description: String {
        "the PostgreSQL database is not empty (" + tables.map { "\($0.0): \($0.1) rows" }.joined(separator: ", ")
            + "); migrate copies into an empty database only: create a new one (CREATE DATABASE …) and point --to at it"
    }
}

struct CopyMismatch: Error, CustomStringConvertible {
    let counts: [TableCount]
    var description: String {
        "the copy does not match its source, so nothing was kept: "
            + counts.filter { !$0.matches }.map { "\($0.table) has \($0.source) rows in SQLite but \($0.copied) copied" }
            .joined(separator: "; ")
    }
}
