import FlyingFox
import Foundation
import Logging
import Synchronization

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

        public init(
            apiKey: String = "sandbox-key", apiSecret: String = "sandbox-secret", groupID: String = "sandbox_group",
            seededConnections: Int = 40, latency: Duration = .zero, hourlyQuota: Int = 20_000,
            cardBaseURL: URL? = nil, seed: UInt64 = 1, port: UInt16 = 0
        ) {
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
    private let logger: Logger
    private let running = Mutex<(server: HTTPServer, task: Task<Void, any Error>, url: URL)?>(nil)

    public init(options: Options = Options(), logger: Logger = Logger(label: "switchboard.sandbox.fivetran")) {
        self.options = options
        self.core = FivetranSandboxCore(options: options)
        self.logger = logger
    }

    /// The base URL (`http://127.0.0.1:<port>`) once started.
    public var baseURL: URL? { running.withLock { $0?.url } }

    /// The port it listens on once started.
    public var port: UInt16? { baseURL?.port.map(UInt16.init) }

    /// Binds 127.0.0.1 on `options.port` (0: a free one) and serves until `stop()`. Answers the
    /// base URL to give the client (`FIVETRAN_BASE_URL`).
    @discardableResult
    public func start() async throws -> URL {
        if let url = baseURL { return url }
        let address = try sockaddr_in.inet(ip4: "127.0.0.1", port: options.port)
        let handler = FivetranSandboxHTTPHandler(core: core, logger: logger)
        let server = HTTPServer(config: .init(address: address, timeout: 30, logger: .disabled), handler: handler)
        let task = Task { try await server.run() }
        do {
            try await server.waitUntilListening(timeout: 10)
        } catch {
            task.cancel()
            throw FivetranSandboxError.cannotListen(port: options.port, reason: String(describing: error))
        }
        guard case .ip4(_, let port)? = await server.listeningAddress else {
            await server.stop()
            throw FivetranSandboxError.cannotListen(port: options.port, reason: "no listening address")
        }
        let url = URL(string: "http://127.0.0.1:\(port)")!
        core.baseURL = url.absoluteString
        running.withLock { $0 = (server, task, url) }
        logger.info("Fivetran sandbox listening on \(url.absoluteString)")
        return url
    }

    /// Stops listening and waits for open connections to finish.
    public func stop() async {
        guard let (server, task, _) = running.withLock({ value in defer { value = nil }; return value }) else { return }
        await server.stop(timeout: 1)
        task.cancel()
    }

    // Swift twins of the `/_sandbox/` hooks, for in-process tests.

    /// The next `count` API answers fail with `status` (429 carries `Retry-After: retryAfter`).
    public func injectFaults(status: Int, count: Int = 1, retryAfter: Int = 1) {
        core.injectFaults(status: status, count: count, retryAfter: retryAfter)
    }

    /// Delay added to every API answer.
    public func setLatency(_ latency: Duration) { core.setLatency(latency) }

    /// Requests served, by route pattern, e.g. `["GET /v1/groups/{id}/connections": 3]`.
    public func stats() -> [String: Int] { core.stats() }

    /// Back to the seeded state: created connections, tokens, faults, quota and stats forgotten.
    public func reset() { core.reset() }

    /// Moves the sandbox's clock forward (token expiry, the quota window).
    public func advanceClock(by seconds: TimeInterval) { core.advanceClock(by: seconds) }
}

/// Why the sandbox could not start.
public enum FivetranSandboxError: Error, CustomStringConvertible {
    case cannotListen(port: UInt16, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let port, let reason):
            "The Fivetran sandbox cannot listen on 127.0.0.1:\(port) (\(reason)); pick another port or 0 for a free one."
        }
    }
}

/// FlyingFox edge: turns its request into a plain value, asks the core, writes the answer.
struct FivetranSandboxHTTPHandler: HTTPHandler {
    let core: FivetranSandboxCore
    let logger: Logger

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        var headers: [String: String] = [:]
        for header in request.headers.keys {
            headers[header.rawValue.lowercased()] = request.headers[header]
        }
        var query: [String: String] = [:]
        for item in request.query where query[item.name] == nil { query[item.name] = item.value }
        let plain = FivetranSandboxRequest(
            method: request.method.rawValue.uppercased(), path: request.path, query: query, headers: headers,
            body: try await request.bodyData)
        let (response, delay) = core.handle(plain)
        if delay > .zero { try? await Task.sleep(for: delay) }
        logger.debug("\(plain.method) \(plain.path) \(response.status)")
        var out = HTTPHeaders()
        for (name, value) in response.headers { out[HTTPHeader(name)] = value }
        return FlyingFox.HTTPResponse(
            statusCode: HTTPStatusCode(response.status, phrase: Self.phrase(response.status)), headers: out,
            body: response.body)
    }

    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 302: "Found"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 409: "Conflict"
        case 415: "Unsupported Media Type"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Status \(status)"
        }
    }
}
