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
            Both listen on 127.0.0.1. With --env-file, writes the variables that point the app at them \
            (FIVETRAN_BASE_URL, FIVETRAN_API_KEY, FIVETRAN_API_SECRET, FIVETRAN_GROUP_ID, FIVETRAN_CARD_HOST, \
            FRONT_BASE_URL, FRONT_API_TOKEN, FRONT_MINUTE_SECONDS, SWITCHBOARD_SANDBOX) once both answer.
            """)

    @Option(help: "Port of the Fivetran stand-in (0: any free port).")
    var fivetranPort: UInt16 = 0
    @Option(help: "Port of the Front stand-in (0: any free port).")
    var frontPort: UInt16 = 0
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

    func run() async throws {
        let fivetran = FivetranSandbox(
            options: .init(
                seededConnections: connections, latency: .milliseconds(latencyMs), hourlyQuota: hourlyQuota,
                port: fivetranPort))
        var frontOptions = FrontSandbox.Options()
        frontOptions.conversations = conversations
        frontOptions.eventsPerConversation = eventsPerConversation
        frontOptions.contacts = contacts
        frontOptions.rateLimitPerMinute = rateLimit
        frontOptions.minuteLength = minuteSeconds
        if noBurst { frontOptions.burstPerSecond = nil }
        let front = FrontSandbox(options: frontOptions)

        let fivetranURL = try await fivetran.start()
        let frontPortBound = try await front.start(port: frontPort)
        let frontURL = "http://127.0.0.1:\(frontPortBound)"
        // Written only once both answer: scripts wait for this file, then point the app at it.
        if let envFile {
            let options = fivetran.options
            let text = """
                FIVETRAN_BASE_URL=\(fivetranURL.absoluteString)
                FIVETRAN_API_KEY=\(options.apiKey)
                FIVETRAN_API_SECRET=\(options.apiSecret)
                FIVETRAN_GROUP_ID=\(options.groupID)
                FIVETRAN_CARD_HOST=127.0.0.1
                FRONT_BASE_URL=\(frontURL)
                FRONT_API_TOKEN=\(frontOptions.tokens.sorted().first ?? "")
                FRONT_MINUTE_SECONDS=\(minuteSeconds)
                SWITCHBOARD_SANDBOX=1

                """
            guard
                FileManager.default.createFile(
                    atPath: envFile, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            else { throw ValidationError("cannot write --env-file \(envFile): is its folder writable?") }
        }
        // Straight to the file descriptor: under scripts/run stdout is a log file, where `print`
        // would hold the line in its buffer until exit.
        FileHandle.standardOutput.write(
            Data("sandbox: Fivetran at \(fivetranURL.absoluteString), Front at \(frontURL)\n".utf8))
        // Until SIGTERM or SIGINT: the service group owns the signals, as in `switchboard`.
        let stopper = StandIns(stop: {
            await fivetran.stop()
            await front.stop()
        })
        try await ServiceGroup(
            services: [stopper], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "switchboard-sandbox")
        )
        .run()
    }
}

/// The running stand-ins as a service: it waits for the group's shutdown, then closes both
/// servers' sockets (the default action of the signal would end the process before that).
struct StandIns: Service {
    let stop: @Sendable () async -> Void

    func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }
}
