import Foundation
import Logging
import Model
import NIOCore
import NIOPosix
import PostgresKit
import PostgresNIO

/// The store in a PostgreSQL database (`SWITCHBOARD_DATABASE_URL`), for teams that run several
/// worker hosts on one shared database. It keeps every promise `SQLiteStore` keeps (the contract
/// suite runs against both), but where SQLite has one writer at a time PostgreSQL has many, so
/// each rule that spans rows is held by row locks (`FOR UPDATE`, `SKIP LOCKED` for the job queue),
/// unique indexes and conditional upserts instead of by the single writer.
///
/// The protocols are synchronous (FastCGI threads call them), so queries run on PostgresNIO's
/// own event loop and the calling thread waits for their answer; nothing here needs Swift's
/// cooperative threads, so a runner that calls in from a task cannot starve the pool.
public final class PostgresStore: SwitchboardStore, @unchecked Sendable {
    /// Whose clock a lease or due time is measured on.
    public enum Clock: Sendable {
        /// The database server's (`clock_timestamp()`), whatever time the caller passes: hosts
        /// whose clocks disagree still agree on when a lease lapsed. The default.
        case database
        /// The caller's `at:` argument, so tests can move time.
        case caller
    }

    /// Where the database is, without its password; shown in messages.
    public let path: String
    let clock: Clock
    private let group: MultiThreadedEventLoopGroup
    private let pool: EventLoopGroupConnectionPool<PostgresConnectionSource>
    let logger: Logger

    /// Connects to `url` (`postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=…`) with at most
    /// `poolSize` connections, and applies every migration not yet applied, under an advisory
    /// lock so that hosts starting together apply each one once.
    public init(url: String, poolSize: Int = 8, clock: Clock = .database, logger: Logger? = nil) throws(StoreError) {
        self.path = Self.redacted(url)
        self.clock = clock
        self.logger = logger ?? Logger(label: "switchboard.postgres")
        let configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw StoreError(path: path, action: "read the database URL", underlying: BadDatabaseURL(url: path))
        }
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        pool = EventLoopGroupConnectionPool(
            source: PostgresConnectionSource(sqlConfiguration: configuration),
            maxConnectionsPerEventLoop: min(max(1, poolSize), 100), requestTimeout: .seconds(5),
            pruneInterval: .seconds(60), logger: self.logger, on: group)
        do {
            try migrate()
        } catch {
            // `deinit` shuts the pool down: a class whose init throws once it is whole is deinitialised.
            throw StoreError(path: path, action: "open", underlying: error)
        }
    }

    deinit { shutDown() }

    private func shutDown() {
        try? pool.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
    }

    /// The URL with its password replaced, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url) else { return "postgres://(unreadable URL)" }
        if parts.password != nil { parts.password = "***" }
        parts.query = nil
        return parts.string ?? "postgres://(unreadable URL)"
    }

    // MARK: Sessions and transactions

    /// One pooled connection for the length of `body`; a pool that has none free within its
    /// wait is `StoreBusy` (503 upstream), as SQLite's reader gate is.
    func withSession<T>(_ body: (Session) throws -> T) throws -> T {
        let connection: PostgresConnection
        do {
            connection = try pool.requestConnection(logger: logger).wait()
        } catch ConnectionPoolTimeoutError.connectionRequestTimeout {
            throw StoreBusy()
        }
        defer { pool.releaseConnection(connection, logger: logger) }
        return try body(Session(connection: connection, logger: logger))
    }

    /// A read: one statement or several, each seeing what was committed when it began.
    func read<T>(_ body: (Session) throws -> T) throws -> T {
        try withSession(body)
    }

    /// `body` in one transaction, committed when it returns and rolled back when it throws. A
    /// deadlock or serialization failure (another host's transaction crossed this one) is
    /// retried from the start a few times: `body` must only touch the database.
    @discardableResult
    func write<T>(_ body: (Session) throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try withSession { session in
                    try session.execute("BEGIN")
                    do {
                        let result = try body(session)
                        try session.execute("COMMIT")
                        return result
                    } catch {
                        _ = try? session.execute("ROLLBACK")
                        throw error
                    }
                }
            } catch let error as PSQLError where attempt < 5 && error.isRetryable {
                logger.debug("retrying a transaction after \(error.sqlState ?? "?")")
                continue
            }
        }
    }

    /// `write` on NIO's thread pool, for the one async requirement (the capture engine's commit):
    /// its threads are its own, so the wait for the answer holds none of Swift's cooperative ones.
    /// A task cancelled before the pool ran it gets `CancellationError`, and nothing was written.
    func writeAsync<T: Sendable>(_ body: @escaping @Sendable (Session) throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { try self.write(body) }
    }

    /// The time a change happens at: the database's clock, or the caller's (`Clock`).
    func now(_ given: Date, _ session: Session) throws -> Date {
        guard clock == .database else { return given }
        let row = try session.one("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8 AS now")
        return Date(timeIntervalSince1970: try row?.decode("now", as: Double.self) ?? given.timeIntervalSince1970)
    }

    /// Wraps any failure in the one error type every store throws, in words a person can act on.
    func failure(_ action: String, _ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError {
            if error.sqlState == PostgresError.Code.uniqueViolation.raw,
                ["capture_name_taken", "capture_prefix_taken"].contains(error.serverInfo?[.constraintName] ?? "")
            {
                return StoreError(path: path, action: action, underlying: StoreError.Conflict.nameTaken)
            }
            return StoreError(path: path, action: action, underlying: PostgresFailure(error))
        }
        return StoreError(path: path, action: action, underlying: error)
    }

    /// A `throws(StoreError)` wrapper for the bodies below.
    @discardableResult
    func run<T>(_ action: @autoclosure () -> String, _ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch {
            throw failure(action(), error)
        }
    }
}

/// One connection, held for a read or a transaction; its queries wait for their answer.
struct Session {
    let connection: PostgresConnection
    let logger: Logger

    func rows(_ query: PostgresQuery) throws -> [PGRow] {
        try connection.query(query, logger: logger).wait().rows.map { PGRow(cells: $0.makeRandomAccess()) }
    }

    func one(_ query: PostgresQuery) throws -> PGRow? {
        try rows(query).first
    }

    /// Runs a statement; answers how many rows it touched.
    @discardableResult
    func execute(_ query: PostgresQuery) throws -> Int {
        try connection.query(query, logger: logger).wait().metadata.rows ?? 0
    }
}

/// A row whose columns are read by name (PostgreSQL folds unquoted names to lower case, so the
/// SQL can keep SQLite's camelCase names and the reads look them up folded).
struct PGRow {
    let cells: PostgresRandomAccessRow

    func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try cells[column.lowercased()].decode(T.self)
    }

    func date(_ column: String) throws -> Date {
        Date(timeIntervalSince1970: try decode(column, as: Double.self))
    }

    func optionalDate(_ column: String) throws -> Date? {
        try decode(column, as: Double?.self).map(Date.init(timeIntervalSince1970:))
    }
}

extension PSQLError {
    var sqlState: String? { serverInfo?[.sqlState] }

    /// Another transaction crossed this one; running it again from the start is safe.
    var isRetryable: Bool {
        sqlState == PostgresError.Code.deadlockDetected.raw || sqlState == PostgresError.Code.serializationFailure.raw
    }
}

/// PostgresNIO's own description hides the server's message (it may hold data); this one keeps
/// the message, the SQL state and the hint, which hold none of the app's secrets.
struct PostgresFailure: Error, CustomStringConvertible {
    let description: String

    init(_ error: PSQLError) {
        if let info = error.serverInfo {
            let message = info[.message] ?? "error"
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            let hint = info[.hint].map { "; \($0)" } ?? ""
            description = "PostgreSQL: \(message)\(state)\(hint)"
        } else {
            description = "PostgreSQL connection: \(error.code.description); is the server up and the URL right?"
        }
    }
}

struct BadDatabaseURL: Error, CustomStringConvertible {
    let url: String
    var description: String {
        "SWITCHBOARD_DATABASE_URL must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE (optionally ?sslmode=disable|prefer|require); got \(url)"
    }
}
