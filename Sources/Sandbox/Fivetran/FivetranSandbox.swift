import Foundation
import Logging

/// A stand-in Fivetran REST API on loopback, for the demo, the tests and the benchmarks: Basic
/// auth, envelopes, cursor paging, current and legacy paths over one in-memory store, creation
/// with per-service schema formats, Connect Cards with a local setup page, rate-limit headers and
/// an hourly quota, plus `/_sandbox/` hooks to inject faults and latency.
///
///     let sandbox = FivetranSandbox(options: .init(seededConnections: 1_200))
///     let base = try await sandbox.start()     // http://127.0.0.1:<free port>
///     …
///     await sandbox.stop()
public final class FivetranSandbox: Sendable {
    /// How the sandbox behaves; every field has a default that works for the demo.
    public struct Options: Sendable {
        public var apiKey: String
        public var apiSecret: String
        /// The one group (destination) that exists; others answer 404.
        public var groupID: String
        /// Connections seeded into the group (deterministic for a given `seed`).
        public var seededConnections: Int
        /// Added to every API answer (changeable at run time with `POST /_sandbox/latency`).
        public var latency: Duration
        /// API requests allowed per rolling hour before 429.
        public var hourlyQuota: Int
        /// Where Connect Card URIs point; the sandbox's own URL when nil.
        public var cardBaseURL: URL?
        public var seed: UInt64
        /// 0 picks a free port; `start()` answers which.
        public var port: UInt16
        /// The IPv4 address to listen on: loopback, unless hosts in other network namespaces
        /// must reach it (scripts/cluster).
        public var host: String
        /// Seconds a sync asked for with `POST …/sync` stays `syncing` (the sandbox's clock): 20,
        /// long enough to be seen on a loaded machine, short enough to watch it end in the demo.
        public var syncDuration: TimeInterval

        public init(
            apiKey: String = "sandbox-key", apiSecret: String = "sandbox-secret", groupID: String = "sandbox_group",
            seededConnections: Int = 40, latency: Duration = .zero, hourlyQuota: Int = 20_000,
            cardBaseURL: URL? = nil, seed: UInt64 = 1, port: UInt16 = 0, syncDuration: TimeInterval = 20,
            host: String = "127.0.0.1"
        ) {
            self.host = host
            self.syncDuration = syncDuration
            self.apiKey = apiKey
            self.apiSecret = apiSecret
            self.groupID = groupID
            self.seededConnections = seededConnections
            self.latency = latency
            self.hourlyQuota = hourlyQuota
            self.cardBaseURL = cardBaseURL
            self.seed = seed
            self.port = port
        }
    }

    public let options: Options
    let core: FivetranSandboxCore
    private let server: SandboxServer

    public init(options: Options = Options(), logger: Logger = Logger(label: "switchboard.sandbox.fivetran")) {
        self.options = options
        let core = FivetranSandboxCore(options: options)
        self.core = core
        self.server = SandboxServer(api: "Fivetran", host: options.host, handlerTimeout: 30, logger: logger) { core.handle($0) }
    }

    /// The base URL (`http://127.0.0.1:<port>`, or the host given) once started.
    public var baseURL: URL? { port.flatMap { URL(string: "http://\(options.host):\($0)") } }

    /// The port it listens on once started.
    public var port: UInt16? { server.port }

    /// Binds `options.host` (127.0.0.1) on `options.port` (0: a free one) and serves until `stop()`. Answers the
    /// base URL to give the client (`FIVETRAN_BASE_URL`).
    @discardableResult
    public func start() async throws -> URL {
        let port = try await server.start(port: options.port)
        guard let url = URL(string: "http://\(options.host):\(port)") else {
            await server.stop()
            throw SandboxServerError.cannotListen(
                api: "Fivetran", host: options.host, port: port, reason: "it makes no URL: give an IPv4 address")
        }
        core.baseURL = url.absoluteString
        return url
    }

    /// Stops listening and waits for open connections to finish.
    public func stop() async { await server.stop() }

    // Swift twins of the `/_sandbox/` hooks, for in-process tests.

    /// The next `count` API answers fail with `status` (429 carries `Retry-After: retryAfter`).
    public func injectFaults(status: Int, count: Int = 1, retryAfter: Int = 1) {
        core.injectFaults(status: status, count: count, retryAfter: retryAfter)
    }

    /// Delay added to every API answer.
    public func setLatency(_ latency: Duration) { core.setLatency(latency) }

    /// The sync frequencies (minutes) `PATCH` accepts, as `UpdateConnectorRequest` lists them.
    public static let frequencies = [1, 5, 15, 30, 60, 120, 180, 360, 480, 720, 1440]

    /// The API requests that changed something (PATCH, POST, DELETE), oldest first: what the app sent.
    public func received() -> [FivetranReceivedRequest] { core.received() }

    /// Requests served, by route pattern, e.g. `["GET /v1/groups/{id}/connections": 3]`.
    public func stats() -> [String: Int] { core.stats() }

    /// Back to the seeded state: created connections, tokens, faults, quota and stats forgotten.
    public func reset() { core.reset() }

    /// Moves the sandbox's clock forward (token expiry, the quota window).
    public func advanceClock(by seconds: TimeInterval) { core.advanceClock(by: seconds) }
}
