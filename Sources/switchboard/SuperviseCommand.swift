import ArgumentParser
import FastCGI
import Foundation
import Logging

/// `switchboard supervise --socket PATH -- <serve arguments>`: the socket's keeper.
struct Supervise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hold the worker's unix socket and keep one `switchboard serve` running on it.",
        discussion: """
            Opens the listening socket and starts `switchboard serve <arguments after -->` with it on \
            file descriptor 0. A worker that dies is started again within a second (later and later \
            while it keeps dying within seconds of its start). The socket stays open the whole time, \
            so nginx never finds it missing. The worker sees SWITCHBOARD_WORKER_RESTARTS (restarts so far).

            Signals: SIGHUP starts a new worker on the same socket and, once it is up, SIGTERMs the old \
            one, which finishes what it accepted: no request is refused. SIGUSR1 reopens \
            $SWITCHBOARD_LOG_FILE here and in the workers (for logrotate). SIGTERM or SIGINT stop the \
            worker (drained, SIGKILL after 30 s), remove the socket and exit 0.
            """)

    @Option(help: "Unix socket path to listen on (default: $SWITCHBOARD_SOCKET).")
    var socket: String?

    @Option(help: "Mode of the unix socket, in octal (nginx's user needs write access).")
    var socketMode: String = "660"

    @Option(help: "File to write this supervisor's pid to (removed on exit).")
    var pidFile: String?

    @Option(help: "File that always holds the current worker's pid (removed on exit).")
    var workerPidFile: String?

    @Argument(parsing: .postTerminator, help: "Arguments for `switchboard serve`, after --.")
    var serveArguments: [String] = []

    var socketPath: String? { socket ?? ProcessInfo.processInfo.environment["SWITCHBOARD_SOCKET"] }

    func validate() throws {
        guard let socketPath, !socketPath.isEmpty else {
            throw ValidationError("Give --socket PATH (or set SWITCHBOARD_SOCKET): the supervisor opens that socket.")
        }
        if mode_t(socketMode, radix: 8) == nil { throw ValidationError("--socket-mode takes an octal mode such as 660") }
        let taken = serveArguments.filter {
            ["--socket", "--listen", "--listen-any"].contains($0.split(separator: "=").first.map(String.init) ?? $0)
        }
        if !taken.isEmpty {
            throw ValidationError(
                "\(taken.joined(separator: ", ")) cannot follow --: the supervisor's socket is the worker's; give --socket before --."
            )
        }
        do {
            _ = try Serve.parse(serveArguments)
        } catch {
            throw ValidationError("the arguments after -- are not valid for `switchboard serve`: \(Serve.message(for: error))")
        }
    }

    func run() throws {
        guard let socketPath, let mode = mode_t(socketMode, radix: 8) else { throw ExitCode.validationFailure }
        let logger = makeLogger("switchboard-supervisor", reopenOnSIGUSR1: false)
        if let pidFile {
            guard FileManager.default.createFile(atPath: pidFile, contents: Data("\(getpid())\n".utf8)) else {
                logger.critical("cannot write --pid-file \(pidFile): does its folder exist and is it writable?")
                throw ExitCode.failure
            }
        }
        defer { if let pidFile { unlink(pidFile) } }
        var environment = ProcessInfo.processInfo.environment
        environment[WorkerEnvironment.readyFD] = nil
        let supervisor = Supervisor(
            configuration: .init(
                socketPath: socketPath, socketMode: mode, executable: Self.executablePath(),
                arguments: ["serve"] + serveArguments, environment: environment, workerPIDFile: workerPidFile),
            logger: logger,
            reopenLogs: { _ = LogOutput.reopen() })
        do {
            try supervisor.run()
        } catch {
            logger.critical("cannot supervise: \(error)")
            throw ExitCode.failure
        }
    }

    /// This binary's path, resolved now: a reload after a rebuild then starts the new binary.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 {
            return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return URL(fileURLWithPath: CommandLine.arguments.first ?? "switchboard").standardizedFileURL.path
    }
}
