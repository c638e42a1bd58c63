import CFastCGI
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A multi-threaded FastCGI responder on libfcgi, run as a service of the process's
/// `ServiceGroup` (which owns the signals: SIGTERM or SIGINT start a graceful shutdown).
///
/// Each thread owns one `FCGX_Request` and blocks in `FCGX_Accept_r`; requests are copied into
/// plain `FastCGIRequest` values at once, so nothing past this type ever touches C pointers, and
/// handed to the async responder through the thread's `RequestThread`, the one hop between the
/// synchronous accept loop and the asynchronous app. libfcgi takes over SIGTERM when it installs
/// its own handlers, but only where a signal is still at its default; the service group has set
/// its signals up before any service starts, so libfcgi leaves them alone.
///
/// A stop never shuts the listening socket down: it may be shared with the next worker (the
/// supervisor's or systemd's socket). Threads wait in `poll` on the socket and a wake-up pipe;
/// a stop writes the pipe, threads between requests leave, the rest finish theirs first.
public final class FastCGIServer: Service, Sendable {
    public typealias Responder = @Sendable (FastCGIRequest) async -> FastCGIResponse

    public struct Configuration: Sendable {
        public var listen: ListenAddress
        public var threads: Int
        /// Bodies above this size are not read; the request arrives with `bodyTooLarge` set.
        public var maxBodyBytes: Int
        /// How long a stop waits for requests in flight before the process exits anyway.
        public var drainDeadline: Duration
        /// Mode of a unix socket, so that nginx (often another user) can connect.
        public var socketMode: mode_t

        public init(
            listen: ListenAddress, threads: Int, maxBodyBytes: Int = 1 << 20,
            drainDeadline: Duration = .seconds(10), socketMode: mode_t = 0o660
        ) {
            self.listen = listen
            self.threads = max(1, threads)
            self.maxBodyBytes = maxBodyBytes
            self.drainDeadline = drainDeadline
            self.socketMode = socketMode
        }
    }

    /// Why serving ended.
    private enum Stop: Sendable {
        case requested
        case socketFailed
    }

    private let configuration: Configuration
    private let responder: Responder
    private let logger: Logger
    private let onReady: @Sendable () -> Void
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)

    /// `onReady` runs once the socket accepts connections (the worker threads are up); then a
    /// supervisor waiting on `SWITCHBOARD_READY_FD` is told too (see `WorkerEnvironment`).
    public init(
        configuration: Configuration, logger: Logger, onReady: @escaping @Sendable () -> Void = {},
        responder: @escaping Responder
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onReady = onReady
        self.responder = responder
    }

    /// Opens the socket, serves until the group shuts down gracefully (or the task is
    /// cancelled), drains the requests in flight, returns. Throws when the socket cannot be
    /// opened, or when it stops working while serving.
    public func run() async throws {
        cfcgi_line_buffer_stdio()
        // A client gone mid-response is normal, never a reason to die.
        signal(SIGPIPE, SIG_IGN)
        // libfcgi would make a default SIGUSR1 mean "stop after this request"; here it means
        // nothing unless the log file claimed it (reopen), which happened earlier if at all.
        cfcgi_ignore_if_default(SIGUSR1)
        guard FCGX_Init() == 0 else { throw FastCGIError.initFailed }

        let socket = try ListeningSocket.open(configuration.listen, mode: configuration.socketMode)
        defer { socket.close() }
        guard let wake = makePipe(nonBlocking: false) else { throw FastCGIError.system("pipe", errno) }
        defer { wake.forEach { _ = Glibc.close($0) } }

        let (stops, stop) = AsyncStream.makeStream(of: Stop.self)
        let threads = (0..<configuration.threads).map { index in
            let thread = Thread { [self] in self.acceptLoop(fd: socket.fd, wake: wake[0], stop: stop) }
            thread.name = "fcgi-\(index)"
            thread.stackSize = 1 << 20
            return thread
        }
        running.store(threads.count, ordering: .sequentiallyConsistent)
        threads.forEach { $0.start() }
        logger.info(
            "serving FastCGI",
            metadata: ["listen": "\(configuration.listen)", "threads": "\(threads.count)"])
        onReady()
        WorkerEnvironment.notifyReady()

        let reason = await withTaskCancellationOrGracefulShutdownHandler {
            var iterator = stops.makeAsyncIterator()
            return await iterator.next() ?? .requested
        } onCancelOrGracefulShutdown: {
            stop.yield(.requested)
        }
        logger.info(
            "stopping: finishing requests in flight",
            metadata: ["reason": "\(reason == .socketFailed ? "the listening socket failed" : "shutdown")"])
        stopping.store(true, ordering: .sequentiallyConsistent)
        FCGX_ShutdownPending()
        // Wakes every thread waiting in poll; the socket itself stays open (it may be shared).
        var byte: UInt8 = 1
        _ = Glibc.write(wake[1], &byte, 1)

        let left = drain(until: ContinuousClock.now + configuration.drainDeadline)
        if left > 0 {
            logger.warning("drain deadline passed; exiting with requests in flight", metadata: ["threads": "\(left)"])
        } else {
            logger.info("stopped")
        }
        if reason == .socketFailed { throw FastCGIError.listenerFailed(configuration.listen.description) }
    }

    /// Waits for the threads to finish their requests, up to `deadline`; answers how many are
    /// still busy. Not `Task.sleep`: a cancelled task must still give the requests their time.
    private func drain(until deadline: ContinuousClock.Instant) -> Int {
        while running.load(ordering: .sequentiallyConsistent) > 0 && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        return running.load(ordering: .sequentiallyConsistent)
    }

    /// One thread: wait until the socket has a connection (or the stop pipe is written), then let
    /// libfcgi accept it. The socket is non-blocking, so when another thread or process took the
    /// connection first, `FCGX_Accept_r` answers EAGAIN and the thread waits again. Running out
    /// of descriptors or memory is waited out, never fatal: a flood of clients must not end the
    /// worker's threads one by one.
    private func acceptLoop(fd: Int32, wake: Int32, stop: AsyncStream<Stop>.Continuation) {
        defer { running.subtract(1, ordering: .sequentiallyConsistent) }
        let thread = RequestThread()
        var request = FCGX_Request()
        guard FCGX_InitRequest(&request, fd, 0) == 0 else {
            logger.error("FCGX_InitRequest failed")
            return
        }
        defer { FCGX_Free(&request, 1) }
        var lastWarning = ContinuousClock.now - .seconds(60)
        while !stopping.load(ordering: .sequentiallyConsistent) {
            var entries = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&entries, 2, -1)
            if stopping.load(ordering: .sequentiallyConsistent) || entries[1].revents != 0 { break }
            if ready < 0 {
                if errno == EINTR { continue }
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            if entries[0].revents & Int16(POLLNVAL | POLLERR | POLLHUP) != 0 && entries[0].revents & Int16(POLLIN) == 0 {
                logger.critical("the listening socket was shut down or closed; stopping this worker")
                stop.yield(.socketFailed)
                break
            }
            let accepted = FCGX_Accept_r(&request)
            guard accepted >= 0 else {
                let code = -accepted
                if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { continue }
                if ContinuousClock.now - lastWarning > .seconds(10) {
                    lastWarning = ContinuousClock.now
                    logger.warning(
                        "cannot accept a connection; retrying",
                        metadata: [
                            "error": "\(code > 0 && code < 4096 ? String(cString: strerror(code)) : "libfcgi \(accepted)")"
                        ])
                }
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            let value = Self.read(&request, maxBody: configuration.maxBodyBytes)
            let response = thread.run { [responder] in await responder(value) }
            Self.write(response, to: request.out)
            FCGX_Finish_r(&request)
        }
    }

    private static func read(_ request: inout FCGX_Request, maxBody: Int) -> FastCGIRequest {
        var params: [String: String] = [:]
        if var env = request.envp {
            while let entry = env.pointee {
                let pair = String(cString: entry)
                if let eq = pair.firstIndex(of: "=") {
                    params[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
                }
                env += 1
            }
        }
        let declared = Int(params["CONTENT_LENGTH"] ?? "") ?? 0
        guard declared <= maxBody else {
            return FastCGIRequest(params: params, body: [], bodyTooLarge: true)
        }
        var body = [UInt8]()
        if declared > 0 {
            body = [UInt8](repeating: 0, count: declared)
            let got = body.withUnsafeMutableBytes { buffer in
                FCGX_GetStr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(declared), request.in)
            }
            body.removeLast(declared - Int(max(got, 0)))
        }
        return FastCGIRequest(params: params, body: body, bodyTooLarge: false)
    }

    private static func write(_ response: FastCGIResponse, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        var head = "Status: \(response.status) \(reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers {
            head += "\(name): \(value)\r\n"
        }
        head += "\r\n"
        put(Array(head.utf8), stream)
        switch response.body {
        case .bytes(let bytes):
            put(bytes, stream)
        case .parts(let parts):
            for part in parts { put(part, stream) }
        case .stream(let produce):
            produce { chunk in put(chunk, stream) && FCGX_FFlush(stream) == 0 }
        }
    }

    @discardableResult
    private static func put(_ bytes: [UInt8], _ stream: UnsafeMutablePointer<FCGX_Stream>?) -> Bool {
        guard !bytes.isEmpty else { return true }
        return bytes.withUnsafeBytes { buffer in
            FCGX_PutStr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count), stream)
        } == Int32(bytes.count)
    }
}

/// Why the server could not start; each case says what to fix.
public enum FastCGIError: Error, CustomStringConvertible {
    case initFailed
    case cannotListen(String)
    case notASocket
    case notASystemdSocket(Int32)
    case listenerFailed(String)
    case system(String, Int32)

    public var description: String {
        switch self {
        case .initFailed: "FCGX_Init failed (is libfcgi installed?)"
        case .cannotListen(let address): "cannot listen on \(address): is it in use, or is the folder missing or read-only?"
        case .notASocket:
            "no --socket or --listen given, and file descriptor 0 is not a listening socket (as spawn-fcgi passes it)"
        case .notASystemdSocket(let fd):
            "LISTEN_FDS says systemd passed a socket, but file descriptor \(fd) is not a listening socket: check the .socket unit (ListenStream=)"
        case .listenerFailed(let address):
            "the listening socket \(address) stopped working (was it shut down by another process?)"
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
