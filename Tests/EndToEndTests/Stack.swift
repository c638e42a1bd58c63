import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real thing for end-to-end tests: the `switchboard` worker and nginx (with the config
/// `scripts/render-nginx` renders), each on its own free port and temp folder, driven over HTTP.
/// Processes are stopped by their pids; nothing else is touched.
final class Stack: @unchecked Sendable {
    let folder: URL
    let port: Int
    let socket: String
    var environment: [String: String]
    private(set) var worker: Process?
    private(set) var nginx: Process?
    private var extraProcesses: [Process] = []

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `switchboard` binary built beside the tests (or `$SWITCHBOARD_BIN`).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["SWITCHBOARD_BIN"] { return path }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("switchboard").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/switchboard").path
    }

    /// `switchboard-sandbox`, built beside `switchboard`.
    static var sandboxBinary: String {
        URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("switchboard-sandbox").path
    }

    /// Arguments for `switchboard-sandbox`, or nil to run without the stand-in APIs.
    let sandboxArguments: [String]?
    private(set) var sandbox: Process?

    init(environment: [String: String] = [:], templates: String? = nil, sandbox: [String]? = []) throws {
        sandboxArguments = sandbox
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sb-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try freePort()
        socket = folder.appendingPathComponent("worker.sock").path
        self.environment = [
            "SWITCHBOARD_DB": folder.appendingPathComponent("switchboard.sqlite").path,
            "SWITCHBOARD_SECRET_KEY_FILE": folder.appendingPathComponent("secret.key").path,
            "SWITCHBOARD_PUBLIC_URL": "http://127.0.0.1:\(port)",
            "SWITCHBOARD_TEMPLATES": templates ?? Self.root.appendingPathComponent("templates").path,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ].merging(environment) { $1 }
    }

    var workerLog: String { folder.appendingPathComponent("worker.log").path }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the sandbox (unless told not to), the worker and nginx, and waits until
    /// `/healthz` answers through nginx.
    func start(threads: Int = 4) async throws {
        if let sandboxArguments { try await startSandbox(sandboxArguments) }
        try startWorker(threads: threads)
        let render = try runProgram(
            Self.root.appendingPathComponent("scripts/render-nginx").path, ["\(port)", socket, folder.appendingPathComponent("nginx").path])
        guard render.status == 0 else { throw StackError("render-nginx failed") }
        let nginxFolder = folder.appendingPathComponent("nginx").path
        nginx = try launch(
            "/usr/sbin/nginx", ["-p", nginxFolder, "-c", nginxFolder + "/nginx.conf", "-e", nginxFolder + "/error.log"],
            log: nginxFolder + "/stderr.log")
        try await waitUntil("nginx answers /healthz on \(port)") { (try? await self.get("/healthz").status) == 200 }
    }

    /// `switchboard-sandbox` on free ports; its `--env-file` points the worker at it.
    func startSandbox(_ arguments: [String]) async throws {
        let envFile = folder.appendingPathComponent("sandbox.env").path
        sandbox = try launch(
            Self.sandboxBinary, ["--env-file", envFile] + arguments, log: folder.appendingPathComponent("sandbox.log").path)
        try await waitUntil("the sandbox wrote \(envFile)") {
            ((try? String(contentsOfFile: envFile, encoding: .utf8)) ?? "").contains("SWITCHBOARD_SANDBOX=1")
        }
        for line in try String(contentsOfFile: envFile, encoding: .utf8).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            environment[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
    }

    var fivetranURL: String { environment["FIVETRAN_BASE_URL"] ?? "" }
    var frontURL: String { environment["FRONT_BASE_URL"] ?? "" }

    /// Every log line the stack's processes wrote (worker, nginx, sandbox).
    func allLogs() -> String {
        let paths = [workerLog, folder.appendingPathComponent("sandbox.log").path]
            + ["access.log", "error.log", "stderr.log"].map { folder.appendingPathComponent("nginx/\($0)").path }
        return paths.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
    }

    /// A JSON request to a sandbox admin hook (`/_sandbox/…`) or the stand-in API itself.
    @discardableResult
    func sandboxCall(
        _ base: String, _ method: String, _ path: String, json: String? = nil, headers: [String: String] = [:],
        formBody: String? = nil
    ) async throws -> Reply {
        var headers = headers
        if json != nil { headers["Content-Type"] = "application/json" }
        return try await Self.fetch(method, base + path, headers: headers, body: (json ?? formBody).map { Data($0.utf8) })
    }

    /// The Fivetran stand-in's request counts by route.
    func fivetranStats() async throws -> [String: Int] {
        let reply = try await sandboxCall(fivetranURL, "GET", "/_sandbox/stats")
        return (try JSONSerialization.jsonObject(with: reply.body) as? [String: Int]) ?? [:]
    }

    func startWorker(threads: Int = 4) throws {
        worker = try launch(Self.binary, ["serve", "--socket", socket, "--threads", "\(threads)"], log: workerLog)
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline, worker?.isRunning == true else {
                throw StackError("the worker did not open its socket: \(log())")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Starts another process of this test (a sandbox, say), stopped with the stack.
    func launchExtra(_ path: String, _ arguments: [String], log: String) throws -> Process {
        let process = try launch(path, arguments, log: log)
        extraProcesses.append(process)
        return process
    }

    func log() -> String { (try? String(contentsOfFile: workerLog, encoding: .utf8)) ?? "" }

    /// SIGTERM everything this stack started and wait for it; the temp folder goes too.
    func stop() {
        for process in [nginx, worker, sandbox].compactMap({ $0 }) + extraProcesses {
            Self.terminate(process)
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// SIGTERM, then wait until the pid is gone (SIGKILL after `deadline`). Polls the pid itself:
    /// Foundation's `waitUntilExit` was seen to hang on Linux after the child had been reaped.
    static func terminate(_ process: Process, deadline: TimeInterval = 20) {
        let pid = process.processIdentifier
        guard pid > 0, process.isRunning else { return }
        kill(pid, SIGTERM)
        let end = Date().addingTimeInterval(deadline)
        while process.isRunning && kill(pid, 0) == 0 {
            if Date() > end {
                kill(pid, SIGKILL)
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    private func launch(_ path: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = folder
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }


    // MARK: HTTP, as a browser without JavaScript would

    struct Reply: Sendable {
        let status: Int
        let headers: [String: String]
        let body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> Reply {
        try await send("GET", path, headers: headers)
    }

    func post(_ path: String, form: [(String, String)], cookie: String? = nil) async throws -> Reply {
        let body = form.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        var headers = ["Content-Type": "application/x-www-form-urlencoded"]
        if let cookie { headers["Cookie"] = cookie }
        return try await send("POST", path, headers: headers, body: Data(body.utf8))
    }

    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil) async throws -> Reply {
        try await Self.fetch(method, baseURL + path, headers: headers, body: body)
    }

    /// One request, no redirects followed, the reply as nginx (or a sandbox) sent it.
    static func fetch(_ method: String, _ url: String, headers: [String: String], body: Data?) async throws -> Reply {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 60
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var replyHeaders: [String: String] = [:]
        for (key, value) in http.allHeaderFields { replyHeaders[String(describing: key).lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, headers: replyHeaders, body: data)
    }

    private func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// No redirects followed, no cookies kept: tests see exactly what nginx sent.
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }()
}

final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

struct StackError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to its end (curl, cgi-fcgi, chromium, a script) and answers its exit status
/// and what it printed on standard output.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A loopback port nobody listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw StackError("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Polls a condition every 50 ms for up to 30 s.
func waitUntil(_ what: String, timeout: TimeInterval = 30, _ condition: () async -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw StackError("timed out waiting until \(what)")
}

/// The value of a cookie in a `Set-Cookie` header.
func cookieValue(_ setCookie: String?, name: String) -> String? {
    guard let setCookie, setCookie.hasPrefix(name + "=") else { return nil }
    return String(setCookie.split(separator: ";")[0].dropFirst(name.count + 1))
}

/// The value of a hidden form field in a page.
func hiddenField(_ html: String, name: String) -> String? {
    guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
    let rest = html[range.upperBound...]
    return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
}
