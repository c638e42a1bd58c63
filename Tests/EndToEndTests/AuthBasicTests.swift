import Foundation
import SwitchboardTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The shipped `nginx/auth_basic.example.conf`, run as a deployer would merge it (its paths
/// pointed at this test's folders): pages need a password, the signed-in user is who the audit
/// and the jobs record, and scripts and probes still get in without one.
@Suite("Behind the auth_basic example", .serialized)
struct AuthBasicTests {
    static let ann = "Basic " + Data("ann:s3cret".utf8).base64EncodedString()

    /// One request by curl: Foundation's URLSession on Linux stalls on a 401 that carries a Basic
    /// challenge, which is exactly what this suite asks for.
    static func curl(
        _ stack: Stack, _ path: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil
    ) throws -> (status: Int, text: String, setCookie: String?) {
        let out = stack.folder.appendingPathComponent("curl-\(UUID().uuidString)").path
        let heads = stack.folder.appendingPathComponent("curl-\(UUID().uuidString).h").path
        var arguments = ["-s", "-X", method, "-o", out, "-D", heads, "-w", "%{http_code}", "--max-time", "30"]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if let body { arguments += ["--data-binary", body] }
        let result = try runProgram("/usr/bin/curl", arguments + [stack.baseURL + path])
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let headerText = (try? String(contentsOfFile: heads, encoding: .utf8)) ?? ""
        let cookie = headerText.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") }
            .map { String($0.dropFirst("set-cookie:".count)).trimmingCharacters(in: .whitespaces) }
        return (Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, text, cookie)
    }

    @Test("pages ask for a password; changes are recorded under the signed-in user; /api/ and /healthz need none")
    func signedInUserIsRecorded() async throws {
        let stack = try Stack(environment: ["SWITCHBOARD_API_TOKENS": "e2e-token"])
        defer { stack.stop() }
        try await stack.startBehindAuthBasic(users: ["ann": "s3cret"])

        #expect(try Self.curl(stack, "/connectors").status == 401)
        let wrong = "Basic " + Data("ann:wrong".utf8).base64EncodedString()
        #expect(try Self.curl(stack, "/connectors", headers: ["Authorization": wrong]).status == 401)
        let list = try Self.curl(stack, "/connectors", headers: ["Authorization": Self.ann])
        #expect(list.status == 200)
        #expect(list.text.contains("ann"))
        #expect(try Self.curl(stack, "/healthz").status == 200)
        let api = try Self.curl(stack, "/api/connectors", headers: ["Authorization": "Bearer e2e-token"])
        #expect(api.status == 200)

        // Pause a connector as ann: Fivetran is told, the audit names her.
        let connectors = try JSONSerialization.jsonObject(with: Data(api.text.utf8)) as? [String: Any]
        let first = try #require((connectors?["connectors"] as? [[String: Any]])?.first { $0["paused"] as? Bool == false })
        let id = try #require(first["id"] as? String)
        let page = try Self.curl(stack, "/connectors/\(id)", headers: ["Authorization": Self.ann])
        let csrf = try #require(cookieValue(page.setCookie, name: "sb_csrf"))
        let paused = try Self.curl(
            stack, "/connectors/\(id)/pause", method: "POST",
            headers: [
                "Authorization": Self.ann, "Cookie": "sb_csrf=\(csrf)", "Content-Type": "application/x-www-form-urlencoded",
            ],
            body: "_csrf=\(csrf)")
        #expect(paused.status == 303)
        let audit = try Self.curl(stack, "/api/audit?object=connector:\(id)", headers: ["Authorization": "Bearer e2e-token"])
        let json = try JSONSerialization.jsonObject(with: Data(audit.text.utf8)) as? [String: Any]
        let entries = json?["entries"] as? [[String: Any]] ?? []
        #expect(entries.first?["actor"] as? String == "ann", "\(entries)")
        #expect(entries.first?["action"] as? String == "connector.changed")
        let auditPage = try Self.curl(stack, "/audit", headers: ["Authorization": Self.ann])
        #expect(auditPage.text.contains(">ann</a>"))
    }
}

extension Stack {
    /// Starts the stand-ins and the worker, then nginx with the shipped auth_basic example as
    /// its server (its paths moved to this test's folder) and `users` in an htpasswd file.
    func startBehindAuthBasic(users: [String: String]) async throws {
        if let sandboxArguments { try await startSandbox(sandboxArguments) }
        try startWorker()
        let nginxFolder = folder.appendingPathComponent("nginx").path
        let render = try runProgram(
            Self.root.appendingPathComponent("scripts/render-nginx").path, ["\(port)", socket, nginxFolder])
        guard render.status == 0 else { throw StackError("render-nginx failed") }
        // The rendered file's globals and http settings, with the example as its one server.
        let rendered = try String(contentsOfFile: nginxFolder + "/nginx.conf", encoding: .utf8)
        guard let serverStart = rendered.range(of: "    server {") else { throw StackError("no server block rendered") }
        let example = try String(
            contentsOf: Self.root.appendingPathComponent("nginx/auth_basic.example.conf"), encoding: .utf8)
        guard let exampleStart = example.range(of: "server {") else { throw StackError("no server block in the example") }
        let htpasswd = folder.appendingPathComponent("htpasswd").path
        // nginx reads `{PLAIN}` passwords itself: no htpasswd tool needed for a test.
        try users.map { "\($0.key):{PLAIN}\($0.value)" }.joined(separator: "\n").write(
            toFile: htpasswd, atomically: true, encoding: .utf8)
        let server = String(example[exampleStart.lowerBound...])
            .replacingOccurrences(of: "listen 443 ssl;", with: "listen 127.0.0.1:\(port);")
            .replacingOccurrences(of: "/etc/nginx/switchboard.htpasswd", with: htpasswd)
            .replacingOccurrences(of: "/etc/nginx/switchboard/", with: Self.root.appendingPathComponent("nginx").path + "/")
            .replacingOccurrences(of: "/srv/switchboard/static/", with: Self.root.appendingPathComponent("static").path + "/")
            .replacingOccurrences(of: "unix:/run/switchboard/switchboard.sock", with: "unix:\(socket)")
        try (String(rendered[..<serverStart.lowerBound]) + server + "}\n").write(
            toFile: nginxFolder + "/auth.conf", atomically: true, encoding: .utf8)
        let nginx = try launchExtra(
            "/usr/sbin/nginx", ["-p", nginxFolder, "-c", nginxFolder + "/auth.conf", "-e", nginxFolder + "/error.log"],
            log: nginxFolder + "/stderr.log")
        try await waitUntil("nginx (auth_basic) answers /healthz on \(port)", timeout: 60) {
            (try? AuthBasicTests.curl(self, "/healthz").status) == 200 || !nginx.isRunning
        }
        guard nginx.isRunning else {
            throw StackError(
                "nginx did not start: \((try? String(contentsOfFile: nginxFolder + "/error.log", encoding: .utf8)) ?? "")")
        }
    }
}
