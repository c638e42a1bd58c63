import Foundation
import PostgresNIO

// Numbered migrations, each applied once in its own transaction and recorded in
// `schema_migration`. A session-level advisory lock is held while they run, so two hosts that
// start together take turns: the second finds them applied and does nothing.
extension PostgresStore {
    /// One step of the schema. Shipped migrations are never edited: a change is a new number.
    struct Migration {
        let version: Int
        let name: String
        let sql: [String]
    }

    /// The lock every host takes to migrate (an arbitrary constant: "switch" in ASCII).
    static let migrationLock: Int64 = 0x7377_6974_6368

    /// The same tables and rules as SQLite's migrations reach today, in PostgreSQL's words:
    /// times are epoch seconds (`float8`) as there, so a copied database keeps every value;
    /// documents are `jsonb`; keys sort bytewise (`COLLATE "C"`) as SQLite sorts them.
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "documents, checkpoints, captures, jobs, schedules, tokens, names, audit",
            sql: [
                """
                CREATE TABLE document (
                    collection TEXT COLLATE "C" NOT NULL,
                    key TEXT COLLATE "C" NOT NULL,
                    json JSONB NOT NULL,
                    sourceTime DOUBLE PRECISION,
                    deleted BOOLEAN NOT NULL DEFAULT false,
                    updatedAt DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (collection, key)
                )
                """,
                "CREATE INDEX document_recent ON document (collection, updatedAt DESC, key DESC)",
                """
                CREATE TABLE checkpoint (
                    name TEXT COLLATE "C" PRIMARY KEY,
                    state BYTEA NOT NULL,
                    updatedAt DOUBLE PRECISION NOT NULL
                )
                """,
                """
                CREATE TABLE connector_name (
                    connectorID TEXT PRIMARY KEY,
                    displayName TEXT NOT NULL,
                    createdBy TEXT,
                    createdAt DOUBLE PRECISION NOT NULL
                )
                """,
                """
                CREATE TABLE capture (
                    id BIGSERIAL PRIMARY KEY,
                    name TEXT NOT NULL CONSTRAINT capture_name_taken UNIQUE,
                    prefix TEXT NOT NULL CONSTRAINT capture_prefix_taken UNIQUE,
                    sealedToken BYTEA NOT NULL,
                    tokenHint TEXT NOT NULL,
                    startDate DOUBLE PRECISION,
                    resources TEXT NOT NULL,
                    createdAt DOUBLE PRECISION NOT NULL,
                    createdBy TEXT,
                    everyMinutes BIGINT,
                    paused BOOLEAN NOT NULL DEFAULT false,
                    nextRunAt DOUBLE PRECISION,
                    frontCompany TEXT,
                    lastSuccessAt DOUBLE PRECISION
                )
                """,
                "CREATE INDEX capture_due ON capture (nextRunAt) WHERE everyMinutes IS NOT NULL AND NOT paused",
                """
                CREATE TABLE job (
                    id BIGSERIAL PRIMARY KEY,
                    captureID BIGINT NOT NULL REFERENCES capture (id),
                    state TEXT NOT NULL,
                    createdAt DOUBLE PRECISION NOT NULL,
                    startedAt DOUBLE PRECISION,
                    finishedAt DOUBLE PRECISION,
                    leaseToken TEXT,
                    leaseExpiresAt DOUBLE PRECISION,
                    cancelRequested BOOLEAN NOT NULL DEFAULT false,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    handBacks BIGINT NOT NULL DEFAULT 0,
                    error TEXT,
                    requestedBy TEXT,
                    progress BYTEA NOT NULL DEFAULT '\\x5b5d',
                    runner TEXT
                )
                """,
                "CREATE INDEX job_by_capture ON job (captureID, id DESC)",
                "CREATE INDEX job_claimable ON job (state, leaseExpiresAt)",
                // One queued-or-running job per capture, whatever the number of hosts.
                "CREATE UNIQUE INDEX job_one_active ON job (captureID) WHERE state IN ('queued', 'running')",
                """
                CREATE TABLE api_token (
                    id BIGSERIAL PRIMARY KEY,
                    name TEXT NOT NULL,
                    sha256 TEXT NOT NULL UNIQUE,
                    hint TEXT NOT NULL,
                    createdAt DOUBLE PRECISION NOT NULL,
                    lastUsedAt DOUBLE PRECISION,
                    revokedAt DOUBLE PRECISION
                )
                """,
                // One runner at a time spends a Front company's rate budget.
                """
                CREATE TABLE company_lease (
                    company TEXT PRIMARY KEY,
                    runner TEXT NOT NULL,
                    expiresAt DOUBLE PRECISION NOT NULL
                )
                """,
                // When each collection was last brought up to date (its binding finished).
                """
                CREATE TABLE collection_sync (
                    collection TEXT COLLATE "C" PRIMARY KEY,
                    captureID BIGINT NOT NULL,
                    asOf DOUBLE PRECISION NOT NULL
                )
                """,
                """
                CREATE TABLE audit (
                    id BIGSERIAL PRIMARY KEY,
                    at DOUBLE PRECISION NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    object TEXT NOT NULL,
                    detail TEXT,
                    error TEXT
                )
                """,
                "CREATE INDEX audit_recent ON audit (at DESC, id DESC)",
                "CREATE INDEX audit_by_object ON audit (object, at DESC, id DESC)",
                "CREATE INDEX audit_by_actor ON audit (actor, at DESC, id DESC)",
            ])
    ]

    /// Applies the migrations this database lacks, holding the advisory lock meanwhile.
    func migrate() throws {
        try withSession { session in
            try session.execute("SELECT pg_advisory_lock(\(Self.migrationLock))")
            defer { _ = try? session.execute("SELECT pg_advisory_unlock(\(Self.migrationLock))") }
            try session.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migration (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    appliedAt DOUBLE PRECISION NOT NULL
                )
                """)
            let applied = Set(
                try session.rows("SELECT version FROM schema_migration").map { try $0.decode("version", as: Int.self) })
            for migration in Self.migrations where !applied.contains(migration.version) {
                try session.execute("BEGIN")
                do {
                    for statement in migration.sql { try session.execute(PostgresQuery(unsafeSQL: statement)) }
                    try session.execute(
                        """
                        INSERT INTO schema_migration (version, name, appliedAt)
                        VALUES (\(migration.version), \(migration.name), EXTRACT(EPOCH FROM clock_timestamp()))
                        """)
                    try session.execute("COMMIT")
                } catch {
                    _ = try? session.execute("ROLLBACK")
                    throw MigrationFailed(version: migration.version, name: migration.name, underlying: error)
                }
                logger.info("applied migration \(migration.version): \(migration.name)")
            }
        }
    }

    /// The versions applied, in order (for `switchboard migrate` and the tests).
    public func appliedMigrations() throws(StoreError) -> [Int] {
        try run("read the applied migrations") {
            try read { session in
                try session.rows("SELECT version FROM schema_migration ORDER BY version").map {
                    try $0.decode("version", as: Int.self)
                }
            }
        }
    }
}

struct MigrationFailed: Error, CustomStringConvertible {
    let version: Int
    let name: String
    let underlying: any Error
    var description: String {
        let reason = (underlying as? PSQLError).map { PostgresFailure($0).description } ?? String(describing: underlying)
        return "migration \(version) (\(name)) failed and was rolled back: \(reason)"
    }
}
