import CFastCGI
import Foundation
import Logging
import Synchronization

/// A multi-threaded FastCGI responder on libfcgi.
///
/// Each thread owns one `FCGX_Request` and blocks in `FCGX_Accept_r`; requests are copied into
/// plain `FastCGIRequest` values at once, so nothing past this type ever touches C pointers.
/// libfcgi swallows SIGTERM when it installs its own handlers (it does so only where a signal is
/// still at its default), so the server sets the stop signals to ignored first and hears them
/// through Dispatch signal sources, whichever thread the kernel delivers them to.
public final class FastCGIServer: Sendable {
    public typealias Handler = @Sendable (FastCGIRequest) -> FastCGIResponse

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

    private let configuration: Configuration
    private let handler: Handler
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)

    public init(configuration: Configuration, logger: Logger, handler: @escaping Handler) {
        self.configuration = configuration
        self.logger = logger
        self.handler = handler
    }

    /// Opens the socket, serves until SIGTERM or SIGINT, drains the requests in flight, returns.
    /// `onReady` runs once the socket accepts connections (the worker threads are up).
    public func run(onReady: @Sendable () -> Void = {}) throws(FastCGIError) {
        cfcgi_line_buffer_stdio()
        let stopSignal = StopSignal()
        guard FCGX_Init() == 0 else { throw .initFailed }

        let socket = try ListeningSocket.open(configuration.listen, mode: configuration.socketMode)
        defer { socket.close() }

        let threads = (0..<configuration.threads).map { index in
            let thread = Thread { [self] in self.acceptLoop(fd: socket.fd) }
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

        let signal = stopSignal.wait()
        logger.info("stopping: finishing requests in flight", metadata: ["signal": "\(signal)"])
        stopping.store(true, ordering: .sequentiallyConsistent)
        FCGX_ShutdownPending()
        socket.stopAccepting()

        let deadline = ContinuousClock.now + configuration.drainDeadline
        while running.load(ordering: .sequentiallyConsistent) > 0 && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        let left = running.load(ordering: .sequentiallyConsistent)
        if left > 0 {
            logger.warning("drain deadline passed; exiting with requests in flight", metadata: ["threads": "\(left)"])
        } else {
            logger.info("stopped")
        }
    }

    private func acceptLoop(fd: Int32) {
        defer { running.subtract(1, ordering: .sequentiallyConsistent) }
        var request = FCGX_Request()
        guard FCGX_InitRequest(&request, fd, 0) == 0 else {
            logger.error("FCGX_InitRequest failed")
            return
        }
        while !stopping.load(ordering: .sequentiallyConsistent) {
            guard FCGX_Accept_r(&request) >= 0 else { break }
            let value = Self.read(&request, maxBody: configuration.maxBodyBytes)
            let response = handler(value)
            Self.write(response, to: request.out)
            FCGX_Finish_r(&request)
        }
        FCGX_Free(&request, 1)
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

    public var description: String {
        switch self {
        case .initFailed: "FCGX_Init failed (is libfcgi installed?)"
        case .cannotListen(let address): "cannot listen on \(address): is it in use, or is the folder missing or read-only?"
        case .notASocket: "no --socket or --listen given, and file descriptor 0 is not a listening socket (as spawn-fcgi passes it)"
        }
    }
}

/// SIGTERM and SIGINT, heard through Dispatch rather than a handler: the signals are set to
/// ignored (so libfcgi keeps its hands off them, and no thread dies of them) and a signal
/// source per signal wakes `wait()`. SIGPIPE is ignored: a client gone mid-response is normal.
final class StopSignal: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let received = Atomic<Int32>(0)
    private var sources: [any DispatchSourceSignal] = []

    init() {
        signal(SIGPIPE, SIG_IGN)
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if received.compareExchange(expected: 0, desired: number, ordering: .sequentiallyConsistent).exchanged {
                    semaphore.signal()
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Blocks until a stop signal arrives; answers its number.
    func wait() -> Int32 {
        semaphore.wait()
        sources.forEach { $0.cancel() }
        return received.load(ordering: .sequentiallyConsistent)
    }
}
