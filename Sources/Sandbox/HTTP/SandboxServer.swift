import FlyingFox
import FlyingSocks
import Foundation
import Logging
import Synchronization

/// The one place the stand-ins meet FlyingFox: binds 127.0.0.1 (or the IPv4 address it is
/// given, for hosts in other network namespaces), turns each request into a
/// `SandboxRequest`, asks the core, sleeps off the answer's delay outside the core's lock, and
/// writes the `SandboxResponse` back. Everything a core decides is testable without it.
final class SandboxServer: Sendable {
    typealias Handler = @Sendable (SandboxRequest) -> SandboxResponse

    /// Which API this stands in for ("Fivetran", "Front"), for messages.
    let api: String
    /// The IPv4 address it binds: 127.0.0.1 unless told otherwise.
    let host: String
    private let handlerTimeout: TimeInterval
    private let logger: Logger
    private let handler: Handler
    private let running = Mutex<(server: HTTPServer, task: Task<Void, any Error>, port: UInt16)?>(nil)

    /// `handlerTimeout`: the longest one answer may take, injected delay included, before FlyingFox
    /// gives up on it with a 500; it bounds the latency a test can inject.
    init(api: String, host: String = "127.0.0.1", handlerTimeout: TimeInterval, logger: Logger, handler: @escaping Handler) {
        self.api = api
        self.host = host
        self.handlerTimeout = handlerTimeout
        self.logger = logger
        self.handler = handler
    }

    /// The bound port once started.
    var port: UInt16? { running.withLock { $0?.port } }

    /// Binds `host`:`port` (0: a free one) and serves until `stop()`; answers the bound port.
    /// A port that cannot be bound fails at once, not after a timeout.
    @discardableResult
    func start(port: UInt16) async throws -> UInt16 {
        if let existing = self.port { return existing }
        let server: HTTPServer
        do {
            let address = try sockaddr_in.inet(ip4: host, port: port)
            let edge = FlyingFoxEdge(handler: handler, logger: logger)
            server = HTTPServer(config: .init(address: address, timeout: handlerTimeout, logger: .disabled), handler: edge)
        } catch {
            throw SandboxServerError.cannotListen(api: api, host: host, port: port, reason: String(describing: error))
        }
        let failure = Mutex<(any Error)?>(nil)
        let task = Task {
            do { try await server.run() } catch {
                failure.withLock { $0 = error }
                throw error
            }
        }
        // Polled rather than `waitUntilListening`, which would sit out its whole timeout if the
        // bind failed.
        var waited = 0
        while await !server.isListening {
            if let error = failure.withLock({ $0 }) {
                throw SandboxServerError.cannotListen(api: api, host: host, port: port, reason: String(describing: error))
            }
            waited += 1
            guard waited < 1000 else {
                task.cancel()
                throw SandboxServerError.cannotListen(api: api, host: host, port: port, reason: "not listening after 10 s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        guard case .ip4(_, let bound)? = await server.listeningAddress else {
            await server.stop()
            task.cancel()
            throw SandboxServerError.cannotListen(api: api, host: host, port: port, reason: "no listening address")
        }
        running.withLock { $0 = (server, task, bound) }
        logger.info("\(api) sandbox listening on http://\(host):\(bound)")
        return bound
    }

    /// Closes the socket and gives open connections a second to finish.
    func stop() async {
        guard
            let current = running.withLock({ state in
                defer { state = nil }
                return state
            })
        else { return }
        await current.server.stop(timeout: 1)
        current.task.cancel()
    }

    /// Suspends until the server stops, for whatever reason.
    func waitUntilStopped() async {
        guard let task = running.withLock({ $0?.task }) else { return }
        _ = try? await task.value
    }
}

/// Why a stand-in could not start.
public enum SandboxServerError: Error, CustomStringConvertible {
    case cannotListen(api: String, host: String, port: UInt16, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let api, let host, let port, let reason):
            "The \(api) sandbox cannot listen on \(host):\(port) (\(reason)); pick another port or 0 for a free one."
        }
    }
}

/// FlyingFox's request in, FlyingFox's response out; nothing else of FlyingFox goes further.
private struct FlyingFoxEdge: HTTPHandler {
    let handler: SandboxServer.Handler
    let logger: Logger

    func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
        var headers: [String: String] = [:]
        for name in request.headers.keys { headers[name.rawValue] = request.headers[name] }
        let plain = SandboxRequest(
            method: request.method.rawValue, path: request.target.path(percentEncoded: true),
            query: request.target.query(percentEncoded: true), headers: headers, body: try await request.bodyData)
        let response = handler(plain)
        if response.delay > .zero { try? await Task.sleep(for: response.delay) }
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
