import CFastCGI
import Foundation

/// Where the worker listens: a unix socket, a TCP address, or the socket inherited on fd 0.
public enum ListenAddress: Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)
    /// The listening socket handed over on file descriptor 0, as spawn-fcgi and systemd do.
    case inherited

    /// Parses `127.0.0.1:9000`, `:9000` or `[::1]:9000`.
    public static func tcp(_ text: String) -> ListenAddress? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): "\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .inherited: "fd 0"
        }
    }
}

/// The listening descriptor, and on stop the care a unix socket needs: shut it down so blocked
/// accepts return, and unlink the path only if it is still ours (a new worker may own it now).
struct ListeningSocket {
    let fd: Int32
    let path: String?
    let inode: ino_t?

    static func open(_ address: ListenAddress, mode: mode_t) throws(FastCGIError) -> ListeningSocket {
        switch address {
        case .inherited:
            guard isListeningSocket(0) else { throw .notASocket }
            return ListeningSocket(fd: 0, path: nil, inode: nil)
        case .tcp(let host, let port):
            let fd = FCGX_OpenSocket("\(host):\(port)", 1024)
            guard fd >= 0 else { throw .cannotListen(address.description) }
            return ListeningSocket(fd: fd, path: nil, inode: nil)
        case .unix(let path):
            let fd = FCGX_OpenSocket(path, 1024)
            guard fd >= 0 else { throw .cannotListen(address.description) }
            chmod(path, mode)
            var info = stat()
            let inode = stat(path, &info) == 0 ? info.st_ino : nil
            return ListeningSocket(fd: fd, path: path, inode: inode)
        }
    }

    /// Whether a descriptor is a socket that listens (what spawn-fcgi hands over on fd 0).
    static func isListeningSocket(_ fd: Int32) -> Bool {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting != 0
    }

    func stopAccepting() {
        _ = shutdown(fd, Int32(SHUT_RDWR))
    }

    func close() {
        if let path, let inode {
            var info = stat()
            if stat(path, &info) == 0 && info.st_ino == inode { unlink(path) }
        }
        if fd != 0 { _ = Glibc.close(fd) }
    }
}
