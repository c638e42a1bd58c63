import Foundation

/// One throw-away PostgreSQL cluster for this test process (`scripts/postgres`): started on first
/// use in a folder of its own under /tmp (the server runs as the `postgres` user, who cannot reach
/// a root-only temp folder), on a free loopback port, and stopped by its pid, with the folder
/// removed, when this process ends, however it ends. Each test takes a database of its own.
public final class PostgresServer: Sendable {
    /// The role's URL on the `switchboard` database; tests use `freshDatabase()` instead.
    public let url: String
    public let folder: URL

    /// The process's cluster, started the first time it is asked for.
    public static func shared() throws -> PostgresServer {
        try lock.withLock {
            if let server = started { return server }
            let server = try PostgresServer()
            started = server
            return server
        }
    }

    nonisolated(unsafe) private static var started: PostgresServer?
    private static let lock = NSLock()

    private init() throws {
        folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("switchboard-test-pg-\(UUID().uuidString.prefix(8))")
        let output = try Self.script(
            ["start", folder.path, "--owner", String(getpid()), "--remove-when-done"], what: "start a PostgreSQL cluster")
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("postgres://") }) else {
            throw TestFailure("scripts/postgres start printed no URL: \(output)")
        }
        url = String(line)
    }

    /// A new, empty database on the cluster, owned by the app's role: its URL, and a closure that
    /// drops it.
    public func freshDatabase() throws -> (url: String, drop: @Sendable () -> Void) {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try Self.script(
            [
                "psql", folder.path, "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c",
                "CREATE DATABASE \(name) OWNER switchboard",
            ],
            what: "create database \(name)")
        guard let slash = url.range(of: "/switchboard?", options: .backwards) else { throw TestFailure("odd URL \(url)") }
        let databaseURL = url.replacingCharacters(in: slash, with: "/\(name)?")
        let folder = folder
        return (
            databaseURL,
            {
                _ = try? Self.script(
                    ["psql", folder.path, "-q", "-d", "postgres", "-c", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"],
                    what: "drop database \(name)")
            }
        )
    }

    /// Runs `scripts/postgres` and answers what it printed (stdout and stderr together).
    ///
    /// Through `popen`, not `Process`: the tests call this from Swift's cooperative threads,
    /// and when those are all busy Foundation on Linux never gets to reap the child, so
    /// `Process.isRunning` stays true; `pclose` waits for the child itself.
    @discardableResult
    static func script(_ arguments: [String], what: String) throws -> String {
        let quoted = ([packageRoot.appendingPathComponent("scripts/postgres").path] + arguments)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        guard let pipe = popen(quoted + " 2>&1", "r") else { throw TestFailure("cannot \(what): popen failed") }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, pipe)
            if count <= 0 { break }
            output.append(contentsOf: buffer[0..<count])
        }
        let status = pclose(pipe)
        let text = String(decoding: output, as: UTF8.self)
        guard status == 0 else { throw TestFailure("cannot \(what): scripts/postgres failed (\(status)): \(text)") }
        return text
    }
}
