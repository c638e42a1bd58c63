import Foundation
import SwitchboardTesting

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

    static let root = packageRoot

    /// The `switchboard` binary built beside the tests (or `$SWITCHBOARD_BIN`).
    static var binary: String { switchboardBinary }

    /// `switchboard-sandbox`, built beside `switchboard`.
    static var sandboxBinary: String {
        URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("switchboard-sandbox").path
    }

    /// Arguments for `switchboard-sandbox`, or nil to run without the stand-in APIs.
    let sandboxArguments: [String]?
    private(set) var sandbox: Process?

    init(environment: [String: String] = [:], templates: String? = nil, sandbox: [String]? = []) throws {
        sandboxArguments = sandbox
        folder = try makeTemporaryFolder("sb-e2e")
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
            Self.root.appendingPathComponent("scripts/render-nginx").path,
            ["\(port)", socket, folder.appendingPathComponent("nginx").path])
        guard render.status == 0 else { throw StackError("render-nginx failed") }
        let nginxFolder = folder.appendingPathComponent("nginx").path
        nginx = try launch(
            "/usr/sbin/nginx", ["-p", nginxFolder, "-c", nginxFolder + "/nginx.conf", "-e", nginxFolder + "/error.log"],
            log: nginxFolder + "/stderr.log")
        do {
            try await waitUntil("nginx answers /healthz on \(port)", timeout: 60) {
                (try? await self.get("/healthz").status) == 200 || self.nginx?.isRunning == false
                    || self.worker?.isRunning == false
            }
        } catch {
            throw StackError("\(error)\n\(startFailure(nginxFolder))")
        }
        guard nginx?.isRunning == true, worker?.isRunning == true else {
            throw StackError("the stack did not start on port \(port):\n\(startFailure(nginxFolder))")
        }
    }

    /// What nginx and the worker said, for a start that failed (a port taken meanwhile, say).
    private func startFailure(_ nginxFolder: String) -> String {
        let nginxLog = (try? String(contentsOfFile: nginxFolder + "/error.log", encoding: .utf8)) ?? ""
        return "nginx running: \(nginx?.isRunning ?? false), worker running: \(worker?.isRunning ?? false)\n"
            + "nginx error.log: \(nginxLog.suffix(1500))\nworker log: \(log().suffix(1500))"
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
        let paths =
            [workerLog, folder.appendingPathComponent("sandbox.log").path]
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
            terminateAndWait(process)
        }
        try? FileManager.default.removeItem(at: folder)
    }

    private func launch(_ path: String, _ arguments: [String], log: String) throws -> Process {
        try launchProcess(path, arguments, environment: environment, in: folder, log: log)
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

struct StackError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to its end (curl, cgi-fcgi, chromium, a script) and answers its exit status
/// and what it printed on standard output.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (
    status: Int32, output: String
) {
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
