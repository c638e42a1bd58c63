import Foundation
import Logging
import Synchronization

/// What the supervisor tells a worker through its environment, and what the worker answers.
public enum WorkerEnvironment {
    /// File descriptor of a pipe; the worker writes a line to it once it accepts connections, so a
    /// reload stops the old worker only when the new one is up.
    public static let readyFD = "SWITCHBOARD_READY_FD"
    /// How many times the supervisor restarted a worker that died (0 for the first one).
    public static let restarts = "SWITCHBOARD_WORKER_RESTARTS"
    /// The supervisor's pid: a worker whose parent is gone stops, instead of serving on orphaned.
    public static let supervisorPID = "SWITCHBOARD_SUPERVISOR_PID"

    private static let notified = Atomic<Bool>(false)

    /// Tells a waiting supervisor that this worker is up (once; nothing without the variable).
    static func notifyReady() {
        guard let text = getenv(readyFD).map({ String(cString: $0) }), let fd = Int32(text), fd >= 3,
            !notified.exchange(true, ordering: .sequentiallyConsistent)
        else { return }
        let line = Array("ready\n".utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        _ = close(fd)
    }

    /// Under a supervisor, SIGTERMs this process when the supervisor is gone (killed with -9,
    /// say), so a worker never serves on unsupervised with nobody left to restart or stop it.
    public static func watchSupervisor(environment: [String: String], logger: Logger) {
        guard let text = environment[supervisorPID], let parent = pid_t(text), parent > 1 else { return }
        let thread = Thread {
            while getppid() == parent { Thread.sleep(forTimeInterval: 0.5) }
            logger.warning("the supervisor is gone; stopping", metadata: ["supervisor_pid": "\(parent)"])
            kill(getpid(), SIGTERM)
        }
        thread.name = "supervisor-watch"
        thread.stackSize = 1 << 18
        thread.start()
    }
}

/// libfcgi's allow-list of peers (`FCGI_WEB_SERVER_ADDRS`, read by FCGX_Init): connections over
/// TCP from any other address are closed unanswered. libfcgi 2.4 compares IPv4 peers only (it
/// lets others through unchecked), so only IPv4 addresses are accepted here.
public enum PeerAllowList {
    public static let variable = "FCGI_WEB_SERVER_ADDRS"

    /// Parses `127.0.0.1,10.0.0.5`; answers the addresses, or what is wrong with the text.
    public static func parse(_ text: String) -> Result<[String], PeerAllowListError> {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard !items.isEmpty, !items.contains(where: \.isEmpty) else { return .failure(.empty) }
        for item in items {
            var address = in_addr()
            guard inet_pton(AF_INET, item, &address) == 1 else { return .failure(.notIPv4(item)) }
        }
        return .success(items)
    }

    /// The peers a TCP listen address accepts when none are given: on loopback, nginx connects
    /// from 127.0.0.1; other addresses need an explicit list, so nil.
    public static func defaults(for address: ListenAddress) -> [String]? {
        guard case .tcp = address, address.isLoopback else { return nil }
        return ["127.0.0.1"]
    }

    /// Sets the variable for FCGX_Init. Call before any thread starts (setenv is not thread-safe).
    public static func install(_ addresses: [String]) {
        setenv(variable, addresses.joined(separator: ","), 1)
    }
}

public enum PeerAllowListError: Error, CustomStringConvertible, Equatable {
    case empty
    case notIPv4(String)

    public var description: String {
        switch self {
        case .empty: "--allow-from takes IPv4 addresses separated by commas, such as 127.0.0.1,10.0.0.5"
        case .notIPv4(let item):
            "--allow-from: \(item) is not an IPv4 address (libfcgi checks only IPv4 peers); give the address nginx connects from, such as 10.0.0.5"
        }
    }
}
