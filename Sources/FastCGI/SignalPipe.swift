import CFastCGI
import Foundation

/// Signals as bytes on a pipe (the self-pipe trick): the handler only writes a byte, and the
/// program reads them where it likes, in a poll loop or on a thread of its own. Unlike a
/// Dispatch signal source, this works the same whatever thread the kernel picks, and it is
/// installed with SA_RESTART so libfcgi's reads and writes are never cut short.
public final class SignalPipe: Sendable {
    /// Read end: readable while signals are waiting (for `poll`).
    public let readFD: Int32
    private let writeFD: Int32

    /// Routes each of `signals` here. Install before FCGX_Init, which takes over SIGUSR1 and
    /// SIGTERM when they are still at their defaults.
    public init(_ signals: [Int32]) throws(FastCGIError) {
        guard let fds = makePipe(nonBlocking: true) else { throw .system("pipe", errno) }
        readFD = fds[0]
        writeFD = fds[1]
        for number in signals where cfcgi_route_signal(number, writeFD) != 0 {
            throw .system("sigaction(\(number))", errno)
        }
    }

    /// Waits up to `timeout` milliseconds (-1: for ever) and answers the signals that arrived.
    public func wait(timeout: Int32) -> [Int32] {
        var entry = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        _ = poll(&entry, 1, timeout)
        return drain()
    }

    /// The signals waiting now, without blocking.
    public func drain() -> [Int32] {
        var signals: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            signals += buffer.prefix(count).map { Int32($0) }
        }
        return signals
    }

    /// Calls `action` on a thread of its own for every `signal` that arrives, for the life of the
    /// process (the log file's SIGUSR1 reopen).
    public static func onSignal(_ signal: Int32, _ action: @escaping @Sendable () -> Void) throws(FastCGIError) {
        let pipe = try SignalPipe([signal])
        let thread = Thread {
            while true {
                if !pipe.wait(timeout: -1).isEmpty { action() }
            }
        }
        thread.name = "signal-\(signal)"
        thread.stackSize = 1 << 18
        thread.start()
    }
}

/// A pipe whose ends are close-on-exec (and non-blocking if asked); nil if the system refused.
/// (Glibc's `pipe2` is not visible to Swift without _GNU_SOURCE.)
func makePipe(nonBlocking: Bool) -> [Int32]? {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return nil }
    for fd in fds {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        if nonBlocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }
    return fds
}
