import ArgumentParser
import Foundation
import Logging
import Sandbox
import ServiceLifecycle
import UnixSignals

/// `switchboard-sandbox`: the local stand-ins of the Fivetran and Front APIs, for the demo, the
/// tests and the benchmarks. Its own program so that the product binary carries neither the
/// stand-ins nor their HTTP server. Runs until SIGTERM or SIGINT.
@main
struct SwitchboardSandbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-sandbox",
        abstract: "Run local stand-ins of the Fivetran and Front APIs (seeded, rate-limited, scriptable).",
        discussion: """
            Both listen on 127.0.0.1, or --host (--only fivetran or --only front starts one of them). With --env-file, \
            writes the variables that point the app at what it started once it answers: FIVETRAN_BASE_URL, \
            FIVETRAN_API_KEY, FIVETRAN_API_SECRET, FIVETRAN_GROUP_ID, FIVETRAN_CARD_HOST for Fivetran; \
            FRONT_BASE_URL and FRONT_API_TOKEN (the default company's) for Front; SWITCHBOARD_SANDBOX=1 last. \
            The app learns Front's rate-limit window from its headers, so a shortened --minute-seconds needs no setting.
            """)

    /// One of the two stand-ins, for `--only`.
    enum StandIn: String, ExpressibleByArgument, CaseIterable {
        case fivetran, front
    }

    @Option(help: "Start only this stand-in (fivetran or front); both when not given.")
    var only: StandIn?

    @Option(help: "Port of the Fivetran stand-in (0: any free port).")
    var fivetranPort: UInt16 = 0
    @Option(help: "Port of the Front stand-in (0: any free port).")
    var frontPort: UInt16 = 0
    @Option(
        help: ArgumentHelp(
            "IPv4 address both stand-ins listen on (and put in their URLs).",
            discussion: "127.0.0.1 unless workers in other network namespaces must reach them (scripts/cluster)."))
    var host = "127.0.0.1"
    @Option(help: "Write the app's environment for these stand-ins to this file (mode 0600).")
    var envFile: String?

    @Option(help: "Fivetran: connections seeded in the group.")
    var connections = 40
    @Option(help: "Fivetran: added latency per request, in milliseconds.")
    var latencyMs = 0
    @Option(help: "Fivetran: requests allowed per hour before 429.")
    var hourlyQuota = 20_000

    @Option(help: "Front: conversations seeded.")
    var conversations = 200
    @Option(help: "Front: events per conversation, on average.")
    var eventsPerConversation = 10
    @Option(help: "Front: contacts seeded.")
    var contacts = 300
    @Option(help: "Front: requests per minute for the company.")
    var rateLimit = 100
    @Option(help: "Front: length of the rate-limit minute in seconds (shorten it for benchmarks).")
    var minuteSeconds: Double = 60
    @Flag(help: "Front: no 5-per-second burst limit per resource.")
    var noBurst = false
    @Option(
        name: .customLong("front-company"),
        help: ArgumentHelp(
            "Front: a token of another company, with its own rate budget (repeatable).", valueName: "TOKEN=cmp_id"))
    var frontCompanies: [String] = []

    func validate() throws {
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else {
            throw ValidationError("--host takes an IPv4 address such as 127.0.0.1 or 10.231.0.1; got \(host.prefix(64))")
        }
    }

    func run() async throws {
        let runsFivetran = only != .front
        let runsFront = only != .fivetran
        let fivetran = FivetranSandbox(
            options: .init(
                seededConnections: connections, latency: .milliseconds(latencyMs), hourlyQuota: hourlyQuota,
                port: fivetranPort, host: host))
        var frontOptions = FrontSandbox.Options()
        frontOptions.conversations = conversations
        frontOptions.eventsPerConversation = eventsPerConversation
        frontOptions.contacts = contacts
        frontOptions.host = host
        frontOptions.rateLimitPerMinute = rateLimit
        frontOptions.minuteLength = minuteSeconds
        if noBurst { frontOptions.burstPerSecond = nil }
        for pair in frontCompanies {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[1].contains(" ") else {
                throw ValidationError("--front-company takes TOKEN=cmp_id (e.g. other-token=cmp_other); got \"\(pair)\"")
            }
            frontOptions.companies[parts[0]] = parts[1]
        }
        let front = FrontSandbox(options: frontOptions)

        // The env file names only what this process serves, so that a setting it did not start
        // (a real FRONT_BASE_URL, say) is left as the user gave it.
        var lines: [String] = []
        var started: [String] = []
        if runsFivetran {
            let fivetranURL = try await fivetran.start()
            let options = fivetran.options
            lines += [
                "FIVETRAN_BASE_URL=\(fivetranURL.absoluteString)", "FIVETRAN_API_KEY=\(options.apiKey)",
                "FIVETRAN_API_SECRET=\(options.apiSecret)", "FIVETRAN_GROUP_ID=\(options.groupID)",
                "FIVETRAN_CARD_HOST=127.0.0.1",
            ]
            started.append("Fivetran at \(fivetranURL.absoluteString)")
        }
        if runsFront {
            let bound = try await front.start(port: frontPort)
            let frontURL = "http://\(host):\(bound)"
            lines += ["FRONT_BASE_URL=\(frontURL)", "FRONT_API_TOKEN=\(frontOptions.tokens.sorted().first ?? "")"]
            started.append("Front at \(frontURL)")
        }
        // Written only once what was asked for answers, SWITCHBOARD_SANDBOX last: scripts wait for
        // that line, then point the app at the file.
        if let envFile {
            let text = (lines + ["SWITCHBOARD_SANDBOX=1", ""]).joined(separator: "\n")
            guard
                FileManager.default.createFile(
                    atPath: envFile, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            else { throw ValidationError("cannot write --env-file \(envFile): is its folder writable?") }
        }
        // Straight to the file descriptor: under scripts/run stdout is a log file, where `print`
        // would hold the line in its buffer until exit.
        FileHandle.standardOutput.write(Data("sandbox: \(started.joined(separator: ", "))\n".utf8))
        // Until SIGTERM or SIGINT: the service group owns the signals, as in `switchboard`.
        let stopper = StandIns(stop: {
            if runsFivetran { await fivetran.stop() }
            if runsFront { await front.stop() }
        })
        try await ServiceGroup(
            services: [stopper], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "switchboard-sandbox")
        )
        .run()
    }
}

/// The running stand-ins as a service: it waits for the group's shutdown, then closes the
/// servers' sockets (the default action of the signal would end the process before that).
struct StandIns: Service {
    let stop: @Sendable () async -> Void

    func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }
}
