import App
import ArgumentParser
import FastCGI
import Foundation
import Logging

/// `switchboard`: one binary, one subcommand per job (DESIGN.md "Shape").
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A self-hosted console for Fivetran connectors and Front captures.",
        version: App.Configuration.version,
        subcommands: [
            Serve.self, Supervise.self, CaptureCommand.self, ExportCommand.self, JobsCommand.self, TokenCommand.self,
            MigrateCommand.self,
        ])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the FastCGI worker (behind nginx).",
        discussion: """
            Listens on a unix socket (--socket), a TCP address (--listen), the socket systemd passes \
            (LISTEN_FDS/LISTEN_PID, from fd 3), a unix socket at $SWITCHBOARD_SOCKET, or, with none of \
            these, the socket handed over on file descriptor 0 (as spawn-fcgi and `switchboard supervise` do). \
            A socket it did not open itself is never unlinked. SIGTERM or SIGINT: stop accepting, finish \
            the requests in flight (up to 10 s), exit 0. SIGUSR1 reopens $SWITCHBOARD_LOG_FILE.
            """)

    @Option(help: "Unix socket path to listen on (default: $SWITCHBOARD_SOCKET).")
    var socket: String?

    @Option(help: "TCP address to listen on, such as 127.0.0.1:9000 (loopback only, unless --listen-any).")
    var listen: String?

    @Flag(help: "Allow --listen on an address other hosts can reach (then give --allow-from).")
    var listenAny = false

    @Option(
        help: ArgumentHelp(
            "IPv4 addresses nginx connects from, comma-separated; libfcgi closes TCP connections from any other.",
            discussion: "Default for a loopback --listen: 127.0.0.1. Sets FCGI_WEB_SERVER_ADDRS.",
            valueName: "addr[,addr]"))
    var allowFrom: String?

    @Option(help: "Accept threads (default: cores × 4).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount * 4

    @Option(help: "Folder of the Mustache templates (default: $SWITCHBOARD_TEMPLATES or ./templates).")
    var templates: String?

    @Option(help: "Mode of the unix socket, in octal.")
    var socketMode: String = "660"

    @Flag(help: "Do not run capture jobs in this process (run `switchboard jobs` elsewhere).")
    var noJobs = false

    func validate() throws {
        if socket != nil && listen != nil { throw ValidationError("Give --socket or --listen, not both.") }
        if let listen {
            guard let address = ListenAddress.tcp(listen) else {
                throw ValidationError("--listen takes HOST:PORT, such as 127.0.0.1:9000; got \(listen)")
            }
            if !address.isLoopback && !listenAny {
                throw ValidationError(
                    "--listen \(listen) is not a loopback address, so other hosts could send requests to the worker. "
                        + "Listen on 127.0.0.1 (nginx on this host), or give --listen-any together with "
                        + "--allow-from set to the addresses nginx connects from.")
            }
            if !address.isLoopback && allowFrom == nil
                && ProcessInfo.processInfo.environment[PeerAllowList.variable] == nil
            {
                throw ValidationError(
                    "--listen-any on \(listen) needs --allow-from ADDR[,ADDR]: the IPv4 addresses nginx connects from.")
            }
        }
        if let allowFrom, case .failure(let problem) = PeerAllowList.parse(allowFrom) {
            throw ValidationError(problem.description)
        }
        if mode_t(socketMode, radix: 8) == nil { throw ValidationError("--socket-mode takes an octal mode such as 660") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// The socket to serve: flags first, then systemd's, then $SWITCHBOARD_SOCKET, then fd 0.
    /// systemd's comes before the variable so that an environment file copied from a
    /// development `.env` cannot make the worker replace systemd's socket with its own.
    func address(environment: [String: String]) -> ListenAddress? {
        if let listen { return ListenAddress.tcp(listen) }
        if let socket { return .unix(path: socket) }
        if let activated = ListenAddress.systemd(environment: environment) { return activated }
        if let path = environment["SWITCHBOARD_SOCKET"], !path.isEmpty { return .unix(path: path) }
        return .inherited
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        // Environment changes first, while this process has no threads of its own yet.
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        guard let address = address(environment: environment), let mode = mode_t(socketMode, radix: 8) else {
            throw ValidationError("--listen takes HOST:PORT, such as 127.0.0.1:9000")
        }
        var peers: [String]?
        if let allowFrom, case .success(let list) = PeerAllowList.parse(allowFrom) {
            peers = list
        } else if environment[PeerAllowList.variable] == nil {
            peers = PeerAllowList.defaults(for: address)
        }
        if let peers { PeerAllowList.install(peers) }

        let logger = makeLogger("switchboard")
        WorkerEnvironment.watchSupervisor(environment: environment, logger: logger)
        if case .activated = address, let count = environment["LISTEN_FDS"].flatMap({ Int($0) }), count > 1 {
            logger.warning(
                "systemd passed \(count) sockets; serving only the first (fd 3): give the .socket unit one ListenStream=")
        }
        if let peers, case .tcp = address {
            logger.info("accepting FastCGI connections only from \(peers.joined(separator: ", "))")
        }
        do {
            var configuration = try await App.Configuration.load(templatesDirectory: templates)
            configuration.runJobs = !noJobs
            let services = try Services(configuration: configuration, logger: logger)
            try await services.serve(.init(listen: address, threads: threads, socketMode: mode))
        } catch {
            logger.critical("cannot serve: \(error)")
            throw ExitCode.failure
        }
    }
}
