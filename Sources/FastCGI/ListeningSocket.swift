import CFastCGI
import Foundation

/// Where the worker listens: a unix socket, a TCP address, or a socket it inherited.
public enum ListenAddress: Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)
    /// The listening socket handed over on file descriptor 0, as spawn-fcgi and the supervisor do.
    case inherited
    /// A socket passed by systemd socket activation (`LISTEN_FDS`, from fd 3).
    case activated(fd: Int32)

    /// Parses `127.0.0.1:9000`, `:9000` or `[::1]:9000`.
    public static func tcp(_ text: String) -> ListenAddress? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return .tcp(host: host, port: port)
    }

    /// Whether only this host can connect: a TCP address on 127.0.0.0/8, `::1` or `localhost`
    /// (an empty host means every interface); unix and inherited sockets count as local.
    public var isLoopback: Bool {
        guard case .tcp(let host, _) = self else { return true }
        if host == "localhost" || host == "::1" { return true }
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { return false }
        return UInt32(bigEndian: address.s_addr) >> 24 == 127
    }

    /// The first socket systemd passed, when `LISTEN_PID` names this process and `LISTEN_FDS`
    /// is at least 1 (sd_listen_fds(3)); nil otherwise. Sockets start at file descriptor 3.
    public static func systemd(environment: [String: String], pid: pid_t = getpid()) -> ListenAddress? {
        guard let listenPID = environment["LISTEN_PID"].flatMap({ pid_t($0) }), listenPID == pid,
            let count = environment["LISTEN_FDS"].flatMap({ Int($0) }), count >= 1
        else { return nil }
        return .activated(fd: 3)
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): "\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .inherited: "fd 0"
        case .activated(let fd): "systemd socket (fd \(fd))"
        }
    }
}

/// The listening descriptor, and on stop the care a unix socket needs: unlink the path only if
/// it is still ours (a new worker may own it now), and never a socket we inherited, which the
/// supervisor or systemd keeps open for the next worker.
///
/// The descriptor is made non-blocking: the accept threads `poll` it together with a wake-up
/// pipe, so a stop never has to `shutdown()` the socket. That matters for an inherited socket:
/// it is shared with the next worker, and a shutdown would refuse connections for both.
struct ListeningSocket {
    let fd: Int32
    let path: String?
    let inode: ino_t?
    let owned: Bool

    static func open(_ address: ListenAddress, mode: mode_t) throws(FastCGIError) -> ListeningSocket {
        let socket: ListeningSocket
        switch address {
        case .inherited:
            guard isListeningSocket(0) else { throw .notASocket }
            socket = ListeningSocket(fd: 0, path: nil, inode: nil, owned: false)
        case .activated(let fd):
            guard isListeningSocket(fd) else { throw .notASystemdSocket(fd) }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            socket = ListeningSocket(fd: fd, path: nil, inode: nil, owned: false)
        case .tcp(let host, let port):
            let fd = FCGX_OpenSocket("\(host):\(port)", 1024)
            guard fd >= 0 else { throw .cannotListen(address.description) }
            socket = ListeningSocket(fd: fd, path: nil, inode: nil, owned: true)
        case .unix(let path):
            let fd = FCGX_OpenSocket(path, 1024)
            guard fd >= 0 else { throw .cannotListen(address.description) }
            chmod(path, mode)
            var info = stat()
            let inode = stat(path, &info) == 0 ? info.st_ino : nil
            socket = ListeningSocket(fd: fd, path: path, inode: inode, owned: true)
        }
        let flags = fcntl(socket.fd, F_GETFL)
        guard flags >= 0, fcntl(socket.fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw .system("fcntl(O_NONBLOCK) on the listening socket", errno)
        }
        return socket
    }

    /// Whether a descriptor is a socket that listens (what spawn-fcgi hands over on fd 0).
    static func isListeningSocket(_ fd: Int32) -> Bool {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting != 0
    }

    /// Closes a socket this process opened (unlinking its path if it is still ours). An
    /// inherited socket is left exactly as it is: the process is about to exit anyway.
    func close() {
        guard owned else { return }
        if let path, let inode {
            var info = stat()
            if stat(path, &info) == 0 && info.st_ino == inode { unlink(path) }
        }
        _ = Glibc.close(fd)
    }
}
