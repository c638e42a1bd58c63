import CFastCGI
import Foundation
import Logging

/// When a worker that died starts again. One that had run a while restarts at once; one that
/// keeps dying within seconds of its start waits longer each time (doubling, up to a cap), so a
/// worker that cannot start — a bad database path, say — does not spin the machine's two cores.
public struct RestartPolicy: Sendable, Equatable {
    /// A worker that lived at least this long was healthy: its death restarts it at once.
    public var healthyAfter: Duration
    /// The wait after the first quick death; each further one in a row doubles it.
    public var firstDelay: Duration
    public var maxDelay: Duration
    /// Deaths in a row, each within `healthyAfter` of its start.
    public private(set) var quickDeaths = 0

    public init(
        healthyAfter: Duration = .seconds(5), firstDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(30)
    ) {
        self.healthyAfter = healthyAfter
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
    }

    /// Records a death after `lifetime` and answers how long to wait before the next start.
    public mutating func workerDied(after lifetime: Duration) -> Duration {
        guard lifetime < healthyAfter else {
            quickDeaths = 0
            return .zero
        }
        quickDeaths += 1
        var delay = firstDelay
        for _ in 1..<min(quickDeaths, 64) {
            delay = delay * 2
            if delay >= maxDelay { return maxDelay }
        }
        return min(delay, maxDelay)
    }
}

/// Holds the listening unix socket and keeps one worker process serving on it (on fd 0, as
/// spawn-fcgi would pass it). Because the socket outlives every worker, nginx never sees it
/// missing: a worker that dies is restarted (see `RestartPolicy`), and a reload starts the new
/// worker on the same socket and stops the old one only once the new one says it is up (through
/// `WorkerEnvironment.readyFD`); the old one then drains what it accepted.
///
/// Signals: SIGHUP reloads; SIGUSR1 reopens the log (`reopenLogs`) and is passed on to the
/// workers; SIGTERM or SIGINT stop the workers (SIGTERM, then SIGKILL after `stopDeadline`)
/// and `run()` returns. Children are found by pid only.
public final class Supervisor {
    public struct Configuration: Sendable {
        public var socketPath: String
        public var socketMode: mode_t
        /// The program and its arguments (`switchboard`, `serve`, …).
        public var executable: String
        public var arguments: [String]
        public var environment: [String: String]
        /// Where the current worker's pid is kept (replaced atomically), if anywhere.
        public var workerPIDFile: String?
        /// How long a new worker on reload may take to come up before it is given up.
        public var readyTimeout: Duration
        /// How long a worker told to stop may drain before it is killed.
        public var stopDeadline: Duration
        public var policy: RestartPolicy

        public init(
            socketPath: String, socketMode: mode_t, executable: String, arguments: [String], environment: [String: String],
            workerPIDFile: String? = nil, readyTimeout: Duration = .seconds(60), stopDeadline: Duration = .seconds(30),
            policy: RestartPolicy = RestartPolicy()
        ) {
            self.socketPath = socketPath
            self.socketMode = socketMode
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.workerPIDFile = workerPIDFile
            self.readyTimeout = readyTimeout
            self.stopDeadline = stopDeadline
            self.policy = policy
        }
    }

    /// One worker process and the read end of its ready pipe (-1 once read or closed).
    struct Worker {
        let pid: pid_t
        let started: ContinuousClock.Instant
        var readyFD: Int32
        var ready = false
    }

    private var configuration: Configuration
    private let logger: Logger
    private let reopenLogs: @Sendable () -> Void

    private var current: Worker?
    /// The new worker of a reload, until it is up.
    private var candidate: Worker?
    /// Workers told to stop, with the time they get SIGKILL.
    private var retiring: [pid_t: ContinuousClock.Instant] = [:]
    private var restartAt: ContinuousClock.Instant?
    /// Workers started because the one before died (reloads do not count); passed on as
    /// `SWITCHBOARD_WORKER_RESTARTS`.
    private var restarts = 0
    private var stopping = false

    public init(configuration: Configuration, logger: Logger, reopenLogs: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.logger = logger
        self.reopenLogs = reopenLogs
    }

    /// Opens the socket, runs workers until SIGTERM or SIGINT, stops them, removes the socket.
    public func run() throws(SupervisorError) {
        signal(SIGPIPE, SIG_IGN)
        let signals: SignalPipe
        do {
            signals = try SignalPipe([SIGTERM, SIGINT, SIGHUP, SIGUSR1])
        } catch {
            throw .system(error.description)
        }
        let listener = try UnixListener.open(path: configuration.socketPath, mode: configuration.socketMode)
        defer {
            listener.close()
            if let file = configuration.workerPIDFile { unlink(file) }
        }
        logger.info(
            "supervising workers",
            metadata: ["socket": "\(configuration.socketPath)", "supervisor_pid": "\(getpid())"])
        restartAt = .now

        while !(stopping && current == nil && candidate == nil && retiring.isEmpty) {
            var entries = [pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0)]
            for fd in [current?.readyFD, candidate?.readyFD].compactMap({ $0 }) where fd >= 0 {
                entries.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            _ = poll(&entries, nfds_t(entries.count), 100)
            for number in signals.drain() { handle(signal: number, listener: listener) }
            readReadyPipes()
            reap()
            runTimers(listener: listener)
        }
        logger.info("supervisor stopped")
    }

    // MARK: Events

    private func handle(signal number: Int32, listener: UnixListener) {
        switch number {
        case SIGTERM, SIGINT:
            guard !stopping else { return }
            stopping = true
            restartAt = nil
            logger.info("stopping the worker", metadata: ["signal": "\(number)"])
            for worker in [current, candidate].compactMap({ $0 }) {
                retire(worker)
            }
            current = nil
            candidate = nil
        case SIGHUP:
            guard !stopping else { return }
            if candidate != nil {
                logger.notice("reload: a new worker is already starting; this SIGHUP changes nothing")
            } else if current == nil {
                logger.notice("reload: no worker is running; starting one now")
                restartAt = .now
            } else {
                logger.info("reload: starting a new worker on the same socket")
                do {
                    candidate = try spawn(listener: listener)
                } catch {
                    logger.error("reload failed, the old worker keeps serving: \(error)")
                }
            }
        case SIGUSR1:
            reopenLogs()
            let pids = [current?.pid, candidate?.pid].compactMap { $0 } + Array(retiring.keys)
            for pid in pids { kill(pid, SIGUSR1) }
            logger.info("reopened the log file", metadata: ["workers_told": "\(pids.count)"])
        default:
            break
        }
    }

    /// A worker writes a line when it is up; end of file means it closed the pipe (it is exiting).
    private func readReadyPipes() {
        if var worker = current, worker.readyFD >= 0, let ready = Self.readReady(&worker) {
            current = worker
            if ready { logger.info("worker ready", metadata: ["worker_pid": "\(worker.pid)"]) }
        }
        if var worker = candidate, worker.readyFD >= 0, let ready = Self.readReady(&worker) {
            candidate = worker
            guard ready else { return }
            if let old = current { retire(old) }
            logger.info(
                "reloaded: the new worker serves, the old one drains what it accepted",
                metadata: ["worker_pid": "\(worker.pid)", "old_worker_pid": "\(current.map { "\($0.pid)" } ?? "none")"])
            current = worker
            candidate = nil
            writeWorkerPID()
        }
    }

    /// Reads the pipe if it has something: true for "ready", false for end of file, nil for nothing yet.
    private static func readReady(_ worker: inout Worker) -> Bool? {
        var entry = pollfd(fd: worker.readyFD, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { read(worker.readyFD, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return nil }
        _ = close(worker.readyFD)
        worker.readyFD = -1
        worker.ready = count > 0
        return count > 0
    }

    /// Collects every child that exited and decides what follows.
    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return }
            let how = Self.describe(status)
            if let worker = current, worker.pid == pid {
                if worker.readyFD >= 0 { _ = close(worker.readyFD) }
                current = nil
                if let next = candidate {
                    // It died during a reload: the new worker takes over as soon as it is up.
                    logger.error("the worker died during a reload", metadata: ["worker_pid": "\(pid)", "status": "\(how)"])
                    current = next
                    candidate = nil
                    writeWorkerPID()
                } else if !stopping {
                    restarts += 1
                    let delay = configuration.policy.workerDied(after: .now - worker.started)
                    restartAt = .now + delay
                    logger.error(
                        "the worker died; restarting it",
                        metadata: ["worker_pid": "\(pid)", "status": "\(how)", "restart_in_seconds": "\(Self.seconds(delay))"])
                }
            } else if let worker = candidate, worker.pid == pid {
                if worker.readyFD >= 0 { _ = close(worker.readyFD) }
                candidate = nil
                logger.error(
                    "reload failed: the new worker exited before it was up; the old one keeps serving (see the lines above)",
                    metadata: ["worker_pid": "\(pid)", "status": "\(how)"])
            } else if retiring.removeValue(forKey: pid) != nil {
                logger.info("an old worker exited", metadata: ["worker_pid": "\(pid)", "status": "\(how)"])
            }
        }
    }

    private func runTimers(listener: UnixListener) {
        let now = ContinuousClock.now
        if let due = restartAt, due <= now, current == nil, !stopping {
            restartAt = nil
            do {
                current = try spawn(listener: listener)
                writeWorkerPID()
            } catch {
                let delay = configuration.policy.workerDied(after: .zero)
                restartAt = now + delay
                logger.error("cannot start a worker: \(error)", metadata: ["retry_in_seconds": "\(Self.seconds(delay))"])
            }
        }
        if let worker = candidate, now - worker.started > configuration.readyTimeout {
            logger.error(
                "reload failed: the new worker did not come up in time; stopping it, the old one keeps serving",
                metadata: ["worker_pid": "\(worker.pid)"])
            if worker.readyFD >= 0 { _ = close(worker.readyFD) }
            candidate = nil
            retire(worker)
        }
        for (pid, deadline) in retiring where deadline <= now {
            logger.warning("a worker did not stop in time; sending SIGKILL", metadata: ["worker_pid": "\(pid)"])
            kill(pid, SIGKILL)
            retiring[pid] = now + .seconds(3600)
        }
    }

    /// SIGTERM: the worker stops accepting and drains; SIGKILL follows after `stopDeadline`.
    private func retire(_ worker: Worker) {
        kill(worker.pid, SIGTERM)
        retiring[worker.pid] = .now + configuration.stopDeadline
    }

    // MARK: Starting a worker

    /// Starts the program with the socket on fd 0 and the ready pipe on fd 3. posix_spawn, not
    /// fork: a forked copy of a multi-threaded Swift process may not run Swift code safely.
    private func spawn(listener: UnixListener) throws(SupervisorError) -> Worker {
        guard let pipeFDs = makePipe(nonBlocking: false) else { throw .system("pipe: \(String(cString: strerror(errno)))") }
        let readEnd = pipeFDs[0]
        // dup2(3, 3) would leave close-on-exec set, so keep the write end off fd 3.
        let writeEnd = fcntl(pipeFDs[1], F_DUPFD_CLOEXEC, 10)
        _ = close(pipeFDs[1])
        defer { if writeEnd >= 0 { _ = close(writeEnd) } }
        guard writeEnd >= 0 else {
            _ = close(readEnd)
            throw .system("fcntl(F_DUPFD_CLOEXEC): \(String(cString: strerror(errno)))")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, listener.fd, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // Its own process group: a terminal's Ctrl-C reaches the supervisor, which stops it in order.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var environment = configuration.environment
        for name in ["SWITCHBOARD_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET"] {
            environment[name] = nil
        }
        environment[WorkerEnvironment.readyFD] = "3"
        environment[WorkerEnvironment.restarts] = "\(restarts)"
        environment[WorkerEnvironment.supervisorPID] = "\(getpid())"
        let argv = ([configuration.executable] + configuration.arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, configuration.executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            _ = close(readEnd)
            throw .cannotStart(configuration.executable, String(cString: strerror(result)))
        }
        logger.info("worker started", metadata: ["worker_pid": "\(pid)", "restarts": "\(restarts)"])
        return Worker(pid: pid, started: .now, readyFD: readEnd)
    }

    /// Replaces the worker pid file atomically (write a temp file, rename), so readers never see half.
    private func writeWorkerPID() {
        guard let file = configuration.workerPIDFile, let pid = current?.pid else { return }
        let temporary = file + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data("\(pid)\n".utf8)) else {
            logger.warning("cannot write the worker pid file", metadata: ["path": "\(file)"])
            return
        }
        _ = rename(temporary, file)
    }

    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "killed by signal \(signal)"
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.2f", Double(seconds) + Double(attoseconds) / 1e18)
    }
}

/// Why the supervisor cannot run; each case says what to do.
public enum SupervisorError: Error, CustomStringConvertible {
    case socketPathTooLong(String)
    case notASocketPath(String)
    case socketInUse(String)
    case cannotListen(String, String)
    case cannotStart(String, String)
    case system(String)

    public var description: String {
        switch self {
        case .socketPathTooLong(let path): "socket path \(path) is longer than 107 bytes: choose a shorter --socket"
        case .notASocketPath(let path): "\(path) exists and is not a socket: remove it or choose another --socket"
        case .socketInUse(let path):
            "another process is serving on \(path): stop it first (make stop), or choose another --socket"
        case .cannotListen(let path, let reason): "cannot listen on \(path): \(reason) (is the folder there and writable?)"
        case .cannotStart(let program, let reason): "cannot start \(program): \(reason)"
        case .system(let what): what
        }
    }
}

/// The supervisor's own listening unix socket: made on a descriptor above 10 (so fd 0 and 3
/// stay free for the worker's), close-on-exec (the worker gets it only as its fd 0), and on
/// exit unlinked only if the path still names this socket.
struct UnixListener {
    let fd: Int32
    let path: String
    let inode: ino_t

    static func open(path: String, mode: mode_t) throws(SupervisorError) -> UnixListener {
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !path.isEmpty, path.utf8.count < capacity else { throw .socketPathTooLong(path) }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else { throw .notASocketPath(path) }
            if canConnect(path) { throw .socketInUse(path) }
            unlink(path)  // a stale socket from a process that died
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let raw = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard raw >= 0 else { throw .cannotListen(path, String(cString: strerror(errno))) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(raw, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(raw, 1024) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(raw)
            throw .cannotListen(path, reason)
        }
        chmod(path, mode)
        let fd = fcntl(raw, F_DUPFD_CLOEXEC, 10)
        _ = Glibc.close(raw)
        guard fd >= 0, stat(path, &info) == 0 else { throw .cannotListen(path, String(cString: strerror(errno))) }
        return UnixListener(fd: fd, path: path, inode: info.st_ino)
    }

    /// Whether something accepts connections on the path now.
    static func canConnect(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { _ = Glibc.close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    func close() {
        var info = stat()
        if stat(path, &info) == 0 && info.st_ino == inode { unlink(path) }
        _ = Glibc.close(fd)
    }
}
