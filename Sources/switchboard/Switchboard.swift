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
        subcommands: [Serve.self, SandboxCommand.self, CaptureCommand.self, ExportCommand.self, JobsCommand.self, TokenCommand.self])
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the FastCGI worker (behind nginx).",
        discussion: """
            Listens on a unix socket (--socket or SWITCHBOARD_SOCKET), a TCP address (--listen), \
            or, with neither, the socket handed over on file descriptor 0 (as spawn-fcgi does).
            """)

    @Option(help: "Unix socket path to listen on (default: $SWITCHBOARD_SOCKET).")
    var socket: String?

    @Option(help: "TCP address to listen on, such as 127.0.0.1:9000.")
    var listen: String?

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
        if let listen, ListenAddress.tcp(listen) == nil {
            throw ValidationError("--listen takes HOST:PORT, such as 127.0.0.1:9000; got \(listen)")
        }
        if mode_t(socketMode, radix: 8) == nil { throw ValidationError("--socket-mode takes an octal mode such as 660") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let logger = makeLogger("switchboard")
        let environment = ProcessInfo.processInfo.environment
        let address: ListenAddress =
            if let listen { ListenAddress.tcp(listen)! } else if let path = socket ?? environment["SWITCHBOARD_SOCKET"] {
                .unix(path: path)
            } else { .inherited }
        do {
            var configuration = App.Configuration(environment: environment, templatesDirectory: templates)
            configuration.runJobs = !noJobs
            let app = try Application(configuration: configuration, logger: logger)
            try app.serve(
                .init(listen: address, threads: threads, socketMode: mode_t(socketMode, radix: 8)!), logger: logger)
        } catch {
            logger.critical("cannot serve: \(error)")
            throw ExitCode.failure
        }
    }
}

/// Logs go to stderr, one line each, at `SWITCHBOARD_LOG_LEVEL` (default info).
func makeLogger(_ label: String) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel =
            ProcessInfo.processInfo.environment["SWITCHBOARD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        return handler
    }
    return Logger(label: label)
}
