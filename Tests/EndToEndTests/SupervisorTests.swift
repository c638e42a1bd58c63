import Foundation
import SwitchboardTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Issue 8: nothing a crash, a reload or a peer does takes Switchboard down. Each test runs real
/// nginx in front of a socket that outlives the workers (held by the test, as systemd does, or by
/// `switchboard supervise`), on its own port and temp folder, and stops what it started by pid.
@Suite("Supervision and sockets that outlive workers")
struct SupervisorTests {
    // MARK: (a) what systemd does

    @Test(
        "a socket held outside the worker: SIGKILL the worker, start another (fd 0, then LISTEN_FDS on fd 3), nginx keeps answering"
    )
    func heldSocket() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        let path = stack.folder.appendingPathComponent("held.sock").path
        let fd = try listeningUnixSocket(path)
        defer { close(fd) }
        try stack.startNginxOnly(socket: path)

        // Like spawn-fcgi or the supervisor: the socket on fd 0.
        let first = try launchWorker(stack, stdin: fd, log: "first.log")
        try await waitUntil("nginx answers through the first worker") { (try? await stack.get("/healthz").status) == 200 }
        try await killAndWait(first)

        // Sent while no worker runs: it waits in the socket's backlog instead of being refused.
        async let waiting = stack.get("/healthz")
        try await Task.sleep(for: .milliseconds(300))

        // Like systemd: LISTEN_FDS=1 and LISTEN_PID naming the worker, the socket on fd 3.
        let second = try launchWorker(stack, stdin: fd, log: "second.log", systemd: true)
        defer { terminateAndWait(second) }
        #expect(try await waiting.status == 200)
        for _ in 0..<20 { #expect(try await stack.get("/healthz").status == 200) }
        let log = (try? String(contentsOfFile: stack.folder.appendingPathComponent("second.log").path, encoding: .utf8)) ?? ""
        #expect(log.contains("systemd socket (fd 3)"))

        // A worker that stops never unlinks a socket it inherited.
        terminateAndWait(second)
        #expect(FileManager.default.fileExists(atPath: path))
    }

    // MARK: (b) the supervisor restarts a dead worker

    @Test("supervise: SIGKILL the worker and a new one answers on the same socket, which never went away")
    func restartAfterKill() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        let supervised = try startSupervisor(stack)
        try await waitUntil("nginx answers through the first worker") { (try? await stack.get("/healthz").status) == 200 }
        let old = try #require(readPID(supervised.workerPIDFile))
        #expect(environment(of: old)["SWITCHBOARD_WORKER_RESTARTS"] == "0")

        kill(old, SIGKILL)
        try await waitUntil("a new worker answers", timeout: 60) {
            guard let pid = readPID(supervised.workerPIDFile), pid != old else { return false }
            return (try? await stack.get("/healthz").status) == 200
        }
        #expect(FileManager.default.fileExists(atPath: supervised.socket))
        let new = try #require(readPID(supervised.workerPIDFile))
        #expect(environment(of: new)["SWITCHBOARD_WORKER_RESTARTS"] == "1")
        #expect(supervised.process.isRunning)
    }

    // MARK: (c) SIGHUP replaces the worker without a failed request

    @Test("supervise: SIGHUP while requests run replaces the worker and not one request fails")
    func reloadWithoutFailures() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        let supervised = try startSupervisor(stack)
        try await waitUntil("nginx answers through the first worker") { (try? await stack.get("/healthz").status) == 200 }
        let first = try #require(readPID(supervised.workerPIDFile))

        let tally = Tally()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        // Stopped by a flag, not by cancelling: a cancelled request would count as failed.
                        while !tally.stopped {
                            let status = (try? await stack.get("/healthz").status) ?? 0
                            tally.record(status)
                        }
                    }
                }
            }
        }
        var previous = first
        for round in 1...2 {
            try await waitUntil("requests flow before reload \(round)") { tally.counts().ok >= 20 * round }
            kill(supervised.process.processIdentifier, SIGHUP)
            try await waitUntil("reload \(round) replaced the worker and the old one exited", timeout: 60) {
                guard let pid = readPID(supervised.workerPIDFile), pid != previous else { return false }
                return kill(previous, 0) != 0
            }
            previous = readPID(supervised.workerPIDFile) ?? previous
        }
        let before = tally.counts().ok
        try await waitUntil("requests flow after the reloads") { tally.counts().ok >= before + 20 }
        tally.stop()
        await load.value

        let counts = tally.counts()
        #expect(counts.failed == 0, "statuses other than 200: \(counts.others)")
        #expect(counts.ok > 0)
        #expect(previous != first)
        #expect(FileManager.default.fileExists(atPath: supervised.socket))
    }

    // MARK: (d) SIGUSR1 reopens the log file

    @Test("SWITCHBOARD_LOG_FILE: rename the file, SIGUSR1 the supervisor, and it and its worker write a new one")
    func reopenLogOnUSR1() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        let logFile = stack.folder.appendingPathComponent("switchboard.log").path
        let supervised = try startSupervisor(stack, environment: ["SWITCHBOARD_LOG_FILE": logFile])
        try await waitUntil("nginx answers") { (try? await stack.get("/healthz").status) == 200 }
        try await waitUntil("the worker logged a request") { text(logFile).contains("GET /healthz 200") }

        let rotated = logFile + ".1"
        #expect(rename(logFile, rotated) == 0)
        kill(supervised.process.processIdentifier, SIGUSR1)
        try await waitUntil("the supervisor reopened its log") { text(logFile).contains("reopened the log file") }
        try await waitUntil("the worker writes its request lines to the new file") {
            _ = try? await stack.get("/healthz")
            return text(logFile).contains("GET /healthz 200")
        }
        #expect(text(rotated).contains("serving FastCGI"))
        #expect(!text(logFile).contains("serving FastCGI"))
    }

    // MARK: (e) JSON log lines

    @Test("SWITCHBOARD_LOG_FORMAT=json: every line parses as a JSON object and the request line carries request_id")
    func jsonLogLines() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        let logFile = stack.folder.appendingPathComponent("json.log").path
        let path = stack.folder.appendingPathComponent("json.sock").path
        let fd = try listeningUnixSocket(path)
        defer { close(fd) }
        let worker = try launchWorker(
            stack, stdin: fd, log: "stderr.log", environment: ["SWITCHBOARD_LOG_FORMAT": "json", "SWITCHBOARD_LOG_FILE": logFile])
        defer { terminateAndWait(worker) }
        var reply = ""
        try await waitUntil("the worker answers over FastCGI") {
            reply = (try? fastCGIGet(path, environment: ["REQUEST_ID": "e2e-json-1"])) ?? ""
            return reply.contains("\"status\":\"ok\"")
        }
        try await waitUntil("the request line is in the log") { text(logFile).contains("e2e-json-1") }

        let lines = text(logFile).split(separator: "\n")
        #expect(!lines.isEmpty)
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            if let object { objects.append(object) }
        }
        for object in objects {
            #expect(
                object["time"] is String && object["level"] is String && object["label"] is String && object["message"] is String)
        }
        let request = objects.first { ($0["request_id"] as? String) == "e2e-json-1" }
        #expect((request?["message"] as? String)?.contains("GET /healthz 200") == true)
        #expect(request?["level"] as? String == "info")
    }

    // MARK: (f) listening and peers

    @Test("--listen on a non-loopback address needs --listen-any, which needs --allow-from")
    func nonLoopbackRefused() throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        let plain = try stack.runWorkerToEnd(["--listen", "10.1.2.3:9000"])
        #expect(plain.status != 0)
        #expect(plain.errors.contains("--listen-any"))
        let anyWithoutPeers = try stack.runWorkerToEnd(["--listen", "0.0.0.0:9000", "--listen-any"])
        #expect(anyWithoutPeers.status != 0)
        #expect(anyWithoutPeers.errors.contains("--allow-from"))
        let badPeer = try stack.runWorkerToEnd(["--listen", "127.0.0.1:9000", "--allow-from", "::1"])
        #expect(badPeer.status != 0)
        #expect(badPeer.errors.contains("IPv4"))
    }

    @Test(
        "libfcgi's allow-list: 127.0.0.1 by default on loopback; a peer not on --allow-from gets no answer and the worker lives on"
    )
    func peersNotAllowedAreRefused() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }

        let openPort = try freePort()
        let open = try launchWorker(stack, stdin: nil, log: "open.log", arguments: ["--listen", "127.0.0.1:\(openPort)"])
        defer { terminateAndWait(open) }
        try await waitUntil("the default worker answers 127.0.0.1") {
            (try? fastCGIGet("127.0.0.1:\(openPort)"))?.contains("\"status\":\"ok\"") == true
        }
        // The default list is 127.0.0.1 alone: the same worker closes a connection from 127.0.0.2.
        #expect(closedAtOnce(from: "127.0.0.2", port: openPort))

        let closedPort = try freePort()
        let closedLog = "closed.log"
        let closed = try launchWorker(
            stack, stdin: nil, log: closedLog, arguments: ["--listen", "127.0.0.1:\(closedPort)", "--allow-from", "127.0.0.2"])
        defer { terminateAndWait(closed) }
        let logPath = stack.folder.appendingPathComponent(closedLog).path
        try await waitUntil("the restricted worker listens") { text(logPath).contains("serving FastCGI") }
        for _ in 0..<3 {
            let reply = (try? fastCGIGet("127.0.0.1:\(closedPort)")) ?? ""
            #expect(!reply.contains("Status: 200"), "a peer not on --allow-from was answered: \(reply)")
        }
        #expect(closed.isRunning)
        #expect(!text(logPath).contains("GET /healthz"))
    }
}

// MARK: - Helpers

/// Counts of request outcomes across concurrent loops.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var ok = 0
    private var others: [Int: Int] = [:]
    private var stopFlag = false

    var stopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopFlag
    }

    func stop() {
        lock.lock()
        defer { lock.unlock() }
        stopFlag = true
    }

    func record(_ status: Int) {
        lock.lock()
        defer { lock.unlock() }
        if status == 200 { ok += 1 } else { others[status, default: 0] += 1 }
    }

    func counts() -> (ok: Int, failed: Int, others: [Int: Int]) {
        lock.lock()
        defer { lock.unlock() }
        return (ok, others.values.reduce(0, +), others)
    }
}

/// A `switchboard supervise` of one test, and where it keeps its socket and worker pid.
struct Supervised {
    let process: Process
    let socket: String
    let workerPIDFile: String
}

extension SupervisorTests {
    /// Starts `switchboard supervise` on a socket in the stack's folder and nginx in front of it.
    func startSupervisor(_ stack: Stack, environment: [String: String] = [:]) throws -> Supervised {
        let socket = stack.folder.appendingPathComponent("supervised.sock").path
        let pidFile = stack.folder.appendingPathComponent("worker.pid").path
        stack.environment.merge(environment) { $1 }
        let process = try stack.launchExtra(
            Stack.binary,
            [
                "supervise", "--socket", socket, "--socket-mode", "666", "--worker-pid-file", pidFile, "--", "--threads", "4",
                "--no-jobs",
            ],
            log: stack.folder.appendingPathComponent("supervisor.log").path)
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline, process.isRunning else {
                throw StackError(
                    "the supervisor did not open its socket: \(text(stack.folder.appendingPathComponent("supervisor.log").path))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        try stack.startNginxOnly(socket: socket)
        return Supervised(process: process, socket: socket, workerPIDFile: pidFile)
    }

    /// `switchboard serve` with `stdin` (a listening socket) as fd 0; with `systemd`, through a
    /// shell that moves it to fd 3 and sets LISTEN_FDS=1 and LISTEN_PID to the pid it then execs.
    func launchWorker(
        _ stack: Stack, stdin: Int32?, log: String, systemd: Bool = false, arguments: [String] = [],
        environment: [String: String] = [:]
    ) throws -> Process {
        let serve = ["serve", "--threads", "2", "--no-jobs"] + arguments
        if systemd {
            let script = "exec 3<&0 0</dev/null; LISTEN_FDS=1 LISTEN_PID=$$ exec \"$0\" \"$@\""
            return try launch(
                stack, "/bin/sh", ["-c", script, Stack.binary] + serve, stdin: stdin, log: log, environment: environment)
        }
        return try launch(stack, Stack.binary, serve, stdin: stdin, log: log, environment: environment)
    }

    func launch(
        _ stack: Stack, _ path: String, _ arguments: [String], stdin: Int32?, log: String, environment: [String: String]
    ) throws -> Process {
        try launchProcess(
            path, arguments, environment: stack.environment.merging(environment) { $1 }, in: stack.folder,
            log: stack.folder.appendingPathComponent(log).path,
            stdin: stdin.map { FileHandle(fileDescriptor: $0, closeOnDealloc: false) } ?? .nullDevice)
    }

    /// SIGKILL, then wait until the pid is gone.
    func killAndWait(_ process: Process) async throws {
        let pid = process.processIdentifier
        kill(pid, SIGKILL)
        try await waitUntil("pid \(pid) is gone") { !process.isRunning }
    }
}

extension Stack {
    /// Runs `switchboard serve ARGUMENTS` to its end; answers its status and what it wrote to stderr.
    func runWorkerToEnd(_ arguments: [String]) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Stack.binary)
        process.arguments = ["serve"] + arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { terminateAndWait(process) }
        return (process.terminationStatus, text)
    }

    /// nginx alone in front of `socket`, which the test serves itself; stopped with the stack.
    func startNginxOnly(socket: String) throws {
        let prefix = folder.appendingPathComponent("nginx").path
        let render = try runProgram(Stack.root.appendingPathComponent("scripts/render-nginx").path, ["\(port)", socket, prefix])
        guard render.status == 0 else { throw StackError("render-nginx failed") }
        _ = try launchExtra(
            "/usr/sbin/nginx", ["-p", prefix, "-c", prefix + "/nginx.conf", "-e", prefix + "/error.log"],
            log: prefix + "/stderr.log")
    }
}

/// A listening unix socket at `path`, as systemd or spawn-fcgi would hold it (mode 0666, so
/// nginx's workers can connect whatever user they run as).
func listeningUnixSocket(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard fd >= 0, bound == 0, listen(fd, 128) == 0 else { throw StackError("cannot listen on \(path)") }
    chmod(path, 0o666)
    return fd
}

/// One GET /healthz over FastCGI with Debian's cgi-fcgi (a socket path or HOST:PORT).
func fastCGIGet(_ address: String, environment: [String: String] = [:]) throws -> String {
    try runProgram(
        "/usr/bin/cgi-fcgi", ["-bind", "-connect", address],
        environment: ["REQUEST_METHOD": "GET", "SCRIPT_NAME": "/healthz"].merging(environment) { $1 }
    ).output
}

/// Connects to 127.0.0.1:`port` from the loopback address `source` and answers whether the
/// worker closed the connection unread (libfcgi's answer to a peer not on its list). An allowed
/// peer's connection stays open, waiting for a request, until the generous receive timeout.
func closedAtOnce(from source: String, port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var local = sockaddr_in()
    local.sin_family = sa_family_t(AF_INET)
    local.sin_addr.s_addr = inet_addr(source)
    var remote = sockaddr_in()
    remote.sin_family = sa_family_t(AF_INET)
    remote.sin_addr.s_addr = inet_addr("127.0.0.1")
    remote.sin_port = in_port_t(UInt16(port).bigEndian)
    let connected = withUnsafePointer(to: &local) { localPointer in
        withUnsafePointer(to: &remote) { remotePointer in
            localPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            } == 0
                && remotePointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                } == 0
        }
    }
    guard connected else { return false }
    var timeout = timeval(tv_sec: 20, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var byte: UInt8 = 0
    return read(fd, &byte, 1) == 0
}

func readPID(_ path: String) -> pid_t? {
    (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// A process's environment, from /proc (what the supervisor or serve really set).
func environment(of pid: pid_t) -> [String: String] {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return [:] }
    var result: [String: String] = [:]
    for entry in data.split(separator: 0) {
        let text = String(decoding: entry, as: UTF8.self)
        if let eq = text.firstIndex(of: "=") { result[String(text[..<eq])] = String(text[text.index(after: eq)...]) }
    }
    return result
}

func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
