import Foundation
import Logging
import Synchronization

/// A stand-in for Front's Core API (api2.frontapp.com) on loopback, so the demo, the tests and
/// the benchmark can run captures without a Front account: seeded, deterministic data held in
/// memory; Front's envelope, paging, filters and rate limits; and `/_sandbox/` hooks to change
/// data, inject faults, count requests and read the ground truth a capture should reach.
public final class FrontSandbox: Sendable {

    /// Everything that shapes the sandbox: who may call it, how strictly it limits, how much data.
    public struct Options: Sendable {
        /// Bearer tokens with every scope.
        public var tokens: Set<String> = ["front-sandbox-token"]
        /// Tokens with only these scopes (e.g. `["contacts:read"]`); other routes answer 403.
        public var scopedTokens: [String: Set<String>] = [:]
        /// Token → the company it belongs to (`cmp_…`), for tokens of companies other than
        /// `defaultCompany`; a token named here is accepted with every scope, like `tokens`. Each
        /// company has its own rate budget and `/me` answer, over the same seeded data.
        public var companies: [String: String] = [:]
        /// The company of every token `companies` does not name.
        public var defaultCompany = "cmp_sandbox"
        /// Company budget per minute, for each company alike (Front plans: 50, 100, 200).
        public var rateLimitPerMinute = 100
        /// Seconds in a rate-limit "minute"; the benchmark shortens it so big captures finish fast.
        /// The burst window (one second) scales with it.
        public var minuteLength: Double = 60
        /// Requests per second per resource before a burst 429 (`x-front-tier`); nil turns it off.
        public var burstPerSecond: Int? = 5
        /// Share of the company budget search may use.
        public var searchShare = 0.4
        /// When on, every other page holds half `limit` items while `next` is still set.
        public var shortPages = false
        /// The IPv4 address to listen on (and to write into `next` links): loopback, unless hosts
        /// in other network namespaces must reach it (scripts/cluster).
        public var host = "127.0.0.1"

        public var conversations = 200
        /// Average events per conversation (at least one each).
        public var eventsPerConversation = 10
        public var contacts = 300
        public var tags = 20
        public var teammates = 12
        public var teams = 3
        public var inboxes = 5
        public var channels = 6
        public var accounts = 10

        /// Same seed, same data, ids and tokens.
        public var seed: UInt64 = 1
        /// Seeded activity lies in `[startTime, startTime + dataSpan)`; later changes use the clock.
        public var startTime = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01T00:00:00Z
        public var dataSpan: TimeInterval = 30 * 86_400

        public init() {}

        /// The company a token belongs to.
        public func company(of token: String) -> String { companies[token] ?? defaultCompany }

        /// Every company: the default one and those `companies` names, in id order.
        public var companyIDs: [String] { Set([defaultCompany]).union(companies.values).sorted() }
    }

    public let options: Options
    let core: FrontCore
    private let server: SandboxServer

    public init(options: Options = Options(), logger: Logger = Logger(label: "switchboard.sandbox.front")) {
        self.options = options
        let core = FrontCore(options: options)
        self.core = core
        self.server = SandboxServer(api: "Front", host: options.host, handlerTimeout: 60, logger: logger) { core.handle($0) }
    }

    /// The bound port once started.
    public var port: UInt16? { server.port }

    /// `http://127.0.0.1:<port>` (or the host given): give it to the Front client as its base URL.
    public var baseURL: URL? { port.flatMap { URL(string: "http://\(options.host):\($0)") } }

    /// Binds `options.host` (127.0.0.1):`port` (0 picks a free port) and serves until `stop()`; returns the bound port.
    @discardableResult
    public func start(port: UInt16 = 0) async throws -> UInt16 {
        let bound = try await server.start(port: port)
        core.setBase("http://\(options.host):\(bound)")
        return bound
    }

    /// Starts (if needed) and serves until `stop()` or until the calling task is cancelled, for a
    /// caller that has nothing else to do meanwhile.
    public func run(port: UInt16 = 0) async throws {
        try await start(port: port)
        await withTaskCancellationHandler {
            await server.waitUntilStopped()
        } onCancel: {
            Task { await self.stop() }
        }
    }

    /// Requests counted so far, by route class ("GET /events", "GET /conversations/search", …),
    /// by status ("200", "429", …), by 429 cause ("429 company", "429 search", "429 burst",
    /// "429 injected"), plus "unknown" routes and "total"; and per company, the requests of its
    /// tokens and the 429s they got ("cmp_sandbox total", "cmp_sandbox 429"). Same as
    /// `GET /_sandbox/stats`.
    public func stats() -> [String: Int] { core.state.withLock { $0.stats } }

    public func resetStats() { core.state.withLock { $0.stats = FrontState.emptyStats(options.companyIDs) } }

    /// Closes the socket and waits for open connections to finish.
    public func stop() async { await server.stop() }
}
