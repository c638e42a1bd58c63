import Foundation
import SwitchboardTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What a hostile client, a slow one, or a careless operator can do to a running Switchboard,
/// tried through real nginx and the real worker: none of it takes the worker down, changes
/// anything it should not, or leaks what it should keep.
@Suite("Hardening behind nginx", .serialized)
struct HardeningTests {
    static let token = CaptureJobTests.apiToken

    @Test("the overflow request and hostile paging get a 400 that says why; the worker lives on")
    func hostilePaging() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let auth = ["Authorization": "Bearer \(Self.token)"]
        for query in [
            "page=9223372036854775807", "page=99999999999999999999999", "page=-1", "page=0", "per_page=1e3",
            "page=%F0%9F%98%80", "per_page=9223372036854775807&page=2",
        ] {
            let reply = try await env.stack.get("/api/jobs?\(query)", headers: auth)
            #expect(reply.status == 400, "\(query): \(reply.status)")
            let error = try JSONSerialization.jsonObject(with: reply.body) as? [String: [String: Any]]
            #expect((error?["error"]?["message"] as? String)?.contains("whole number") == true, "\(query)")
        }
        #expect(try await env.stack.get("/api/jobs?page=1000000", headers: auth).status == 200)
        #expect(try await env.stack.get("/healthz").status == 200)
        #expect(env.stack.worker?.isRunning == true)
    }

    @Test("a state-changing request without the CSRF token changes nothing, whatever its Content-Type or origin")
    func csrfWhateverTheContentType() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        // A token made on /settings, then a forged revoke that claims to be JSON.
        let made = try await env.stack.post(
            "/settings/tokens", form: [("_csrf", env.csrf), ("name", "victim")], cookie: env.cookie)
        #expect(made.status == 200)
        #expect(made.header("Cache-Control") == "no-store")
        let secret = try #require(
            made.text.range(of: #"sb_[A-Za-z0-9_\-]+"#, options: .regularExpression).map { String(made.text[$0]) })
        let authorized = ["Authorization": "Bearer \(secret)"]
        #expect(try await env.stack.get("/api/jobs", headers: authorized).status == 200)

        let forgeries: [(String, [String: String], Data?)] = [
            ("body-less JSON", ["Content-Type": "application/json"], nil),
            ("JSON body", ["Content-Type": "application/json"], Data(#"{"a":1}"#.utf8)),
            ("text/plain", ["Content-Type": "text/plain"], Data("_csrf=x".utf8)),
            ("no Content-Type", [:], nil),
            (
                "form with the cookie but no field", ["Content-Type": "application/x-www-form-urlencoded", "Cookie": env.cookie],
                Data("a=b".utf8)
            ),
            (
                "a valid token from another site",
                [
                    "Content-Type": "application/x-www-form-urlencoded", "Cookie": env.cookie, "Origin": "https://evil.example",
                ], Data("_csrf=\(env.csrf)".utf8)
            ),
            (
                "a valid token, cross-site by Fetch Metadata",
                [
                    "Content-Type": "application/x-www-form-urlencoded", "Cookie": env.cookie, "Sec-Fetch-Site": "cross-site",
                ], Data("_csrf=\(env.csrf)".utf8)
            ),
        ]
        for (what, headers, body) in forgeries {
            let reply = try await env.stack.send("POST", "/settings/tokens/1/revoke", headers: headers, body: body)
            #expect(reply.status == 403, "\(what): \(reply.status)")
        }
        #expect(try await env.stack.get("/api/jobs", headers: authorized).status == 200, "a forgery revoked the token")

        // The real form from this site still works, Origin and all.
        let revoke = try await env.stack.send(
            "POST", "/settings/tokens/1/revoke",
            headers: [
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": env.cookie, "Origin": env.stack.baseURL,
                "Sec-Fetch-Site": "same-origin",
            ],
            body: Data("_csrf=\(env.csrf)".utf8))
        #expect(revoke.status == 303)
        #expect(try await env.stack.get("/api/jobs", headers: authorized).status == 401)
    }

    @Test("every response carries the security headers: pages, errors, static files, nginx's own 413")
    func securityHeaders() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        var replies = [
            ("/captures", try await env.stack.get("/captures")),
            ("404", try await env.stack.get("/nope")),
            ("static", try await env.stack.get("/static/app.css")),
            ("api 401", try await env.stack.get("/api/jobs")),
        ]
        let big = Data(repeating: UInt8(ascii: "a"), count: 2 << 20)
        replies.append(("413", try await env.stack.send("POST", "/captures", headers: ["Content-Type": "text/plain"], body: big)))
        for (what, reply) in replies {
            let policy = reply.header("Content-Security-Policy") ?? ""
            #expect(policy.contains("frame-ancestors 'none'"), "\(what)")
            #expect(policy.contains("script-src 'self'"), "\(what)")
            #expect(!policy.contains("unsafe-inline"), "\(what)")
            #expect(reply.header("X-Frame-Options") == "DENY", "\(what)")
            #expect(reply.header("X-Content-Type-Options") == "nosniff", "\(what)")
            #expect(reply.header("Referrer-Policy") == "same-origin", "\(what)")
        }
        // No page needs an inline script or style attribute the policy would block.
        for path in ["/captures", "/captures/new", "/settings", "/collections", "/connectors", "/services"] {
            let page = try await env.stack.get(path).text
            #expect(!page.contains("<script>"), "\(path) has an inline script")
            #expect(!page.contains("style=\""), "\(path) has an inline style")
        }
    }

    @Test("a client cannot choose the user recorded: nginx passes REMOTE_USER only behind auth_basic")
    func remoteUserIsNotTheClients() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let basic = "Basic " + Data("mallory:whatever".utf8).base64EncodedString()
        let page = try await env.stack.get("/captures", headers: ["Authorization": basic])
        #expect(page.status == 200)
        #expect(!page.text.contains("mallory"))
        var form = [("_csrf", env.csrf), ("name", "Spoof"), ("token", env.frontToken), ("start_date", "")]
        form += [("resources", "tags")]
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(
            separator: "&")
        let created = try await env.stack.send(
            "POST", "/captures",
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": env.cookie, "Authorization": basic],
            body: Data(body.utf8))
        #expect(created.status == 303)
        let job = try await env.apiJSON("/api" + (created.header("Location") ?? ""))
        #expect(job["requested_by"] as? String != "mallory")
    }

    @Test("unknown bearer tokens from one address are slowed down with 429 and Retry-After; a valid one still works")
    func tokenGuessersAreSlowedDown() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        var statuses: [Int] = []
        for guess in 0..<12 {
            statuses.append(try await env.stack.get("/api/jobs", headers: ["Authorization": "Bearer guess-\(guess)"]).status)
        }
        #expect(statuses.prefix(10).allSatisfy { $0 == 401 })
        #expect(statuses.suffix(2).allSatisfy { $0 == 429 })
        let limited = try await env.stack.get("/api/jobs", headers: ["Authorization": "Bearer guess-x"])
        #expect(Int(limited.header("Retry-After") ?? "") ?? 0 > 0)
        // The environment token is compared before the store is asked; the throttle is checked first.
        #expect(try await env.stack.get("/healthz").status == 200)
    }

    @Test("/metrics: request histograms by route and status, upstream calls, worker restarts; nginx keeps it to loopback")
    func metrics() async throws {
        let env = try await CaptureEnvironment.start(extra: ["SWITCHBOARD_WORKER_RESTARTS": "3"])
        defer { env.stop() }
        _ = try await env.stack.get("/captures")
        _ = try await env.stack.get("/jobs/999")
        let jobPath = try await env.createCapture(name: "Metered")
        _ = try await env.waitForJob(jobPath, toBe: ["succeeded"])
        let text = try await env.stack.get("/metrics").text
        #expect(text.contains(#"switchboard_http_request_duration_seconds_bucket{route="/captures",method="GET",status="200""#))
        #expect(text.contains(#"route="/jobs/{id}",method="GET",status="404""#))
        #expect(
            text.contains(#"switchboard_upstream_request_duration_seconds_count{upstream="front",route="tags",status="200"}"#))
        #expect(text.contains(#"switchboard_job_runs_total{outcome="succeeded"} 1"#))
        #expect(text.contains("switchboard_worker_restarts 3"))
        #expect(text.contains(#"switchboard_jobs{state="succeeded"} 1"#))
        let config = try String(contentsOfFile: env.stack.folder.appendingPathComponent("nginx/nginx.conf").path, encoding: .utf8)
        #expect(config.contains("location = /metrics"))
        #expect(config.contains("deny all;"))
    }

    @Test("the key and the database are private files; a key others can read is refused with the fix")
    func privateFiles() async throws {
        let env = try await CaptureEnvironment.start()
        let key = env.stack.environment["SWITCHBOARD_SECRET_KEY_FILE"] ?? ""
        let database = env.stack.environment["SWITCHBOARD_DB"] ?? ""
        func mode(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
        }
        #expect(mode(key) == 0o600)
        #expect(mode(database) == 0o600)
        #expect(mode(database + "-wal") == 0o600)
        env.stop()

        let folder = try makeTemporaryFolder("sb-key")
        defer { try? FileManager.default.removeItem(at: folder) }
        /// `serve` with a key file of `keyMode` and `extra` settings; answers its status and output.
        func serve(keyMode: Int, _ extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
            let name = UUID().uuidString.prefix(8)
            let key = folder.appendingPathComponent("\(name).key").path
            _ = FileManager.default.createFile(
                atPath: key, contents: Data(repeating: 7, count: 32), attributes: [.posixPermissions: keyMode])
            return try runProgram(
                "/bin/sh",
                [
                    "-c", "exec \"$0\" serve --socket \"$1\" 2>&1", Stack.binary,
                    folder.appendingPathComponent("\(name).sock").path,
                ],
                environment: [
                    "SWITCHBOARD_SECRET_KEY_FILE": key, "SWITCHBOARD_DB": folder.appendingPathComponent("\(name).sqlite").path,
                    "SWITCHBOARD_TEMPLATES": Stack.root.appendingPathComponent("templates").path, "PATH": "/usr/bin:/bin",
                ].merging(extra) { $1 })
        }
        let loose = try serve(keyMode: 0o644)
        #expect(loose.status != 0)
        #expect(loose.output.contains("chmod 600"), "\(loose.output)")
        // A database shared with a group the system does not have: refused, naming it.
        let grouped = try serve(keyMode: 0o600, ["SWITCHBOARD_DB_GROUP": "no-such-group-here"])
        #expect(grouped.status != 0)
        #expect(grouped.output.contains("no-such-group-here"), "\(grouped.output)")
    }

    @Test("slow NDJSON downloads hold no database reader and no worker thread: the pages stay answered")
    func slowDownloads() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let jobPath = try await env.createCapture(name: "Big")
        _ = try await env.waitForJob(jobPath, toBe: ["succeeded"])
        // More slow clients than the worker has threads (4) and the store has readers.
        let url = env.stack.baseURL + "/collections/big%2Fevents.ndjson"
        var curls: [Process] = []
        for index in 0..<10 {
            curls.append(
                try env.stack.launchExtra(
                    "/usr/bin/curl", ["-sS", "--limit-rate", "1k", "-o", "/dev/null", url],
                    log: env.stack.folder.appendingPathComponent("curl-\(index).log").path))
        }
        defer {
            // SIGKILL: a child of the test runner may inherit SIGTERM as ignored.
            for curl in curls where curl.isRunning { kill(curl.processIdentifier, SIGKILL) }
            curls.forEach { terminateAndWait($0) }
        }
        try await Task.sleep(for: .seconds(1))
        let clock = ContinuousClock.now
        for path in ["/captures", "/settings", "/collections", jobPath] {
            let reply = try await env.stack.get(path)
            #expect(reply.status == 200, "\(path): \(reply.status)")
        }
        print("slow downloads: pages answered in \(ContinuousClock.now - clock)")
    }

    @Test("a slow Fivetran cannot hold every worker thread: beyond the bound, live calls answer 503 with Retry-After")
    func liveFivetranCallsAreBounded() async throws {
        let stack = try Stack(environment: ["SWITCHBOARD_FIVETRAN_CALLS": "1"], sandbox: [])
        try await stack.start(threads: 4)
        defer { stack.stop() }
        let list = try JSONSerialization.jsonObject(with: try await stack.get("/_/connectors").body) as? [[String: Any]]
        let id = try #require(list?.first?["id"] as? String)
        try await stack.sandboxCall(stack.fivetranURL, "POST", "/_sandbox/latency", json: #"{"ms":3000}"#)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 { group.addTask { try await stack.get("/connectors/\(id)/setup").status } }
            // Pages that need no call are answered meanwhile.
            group.addTask {
                try await Task.sleep(for: .milliseconds(500))
                return try await stack.get("/healthz").status == 200 ? -1 : -2
            }
            var all: [Int] = []
            for try await status in group { all.append(status) }
            return all
        }
        #expect(statuses.contains(-1))
        #expect(statuses.contains(303))
        #expect(statuses.contains(503))
    }

    @Test(
        "a Front that sends rate-limit headers or timestamps that are no numbers: the job fails saying so, the worker lives on",
        arguments: [
            // The other values (inf, -5, nan timestamps…) are the unit tests' and scripts/chaos's.
            #"{"headers": {"x-ratelimit-limit": "nan"}}"#, #"{"headers": {"x-ratelimit-reset": "1e400"}}"#,
            #"{"headers": {"x-ratelimit-remaining": ""}}"#, #"{"corrupt_timestamps": "1e400"}"#,
            #"{"corrupt_timestamps": "huge"}"#,
        ])
    func hostileFront(fault: String) async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        var body = try JSONSerialization.jsonObject(with: Data(fault.utf8)) as? [String: Any] ?? [:]
        body["count"] = 100_000
        try await env.sandbox("POST", "/_sandbox/faults", body: body)
        let jobPath = try await env.createCapture(name: "Hostile")
        let job = try await env.waitForJob(jobPath, toBe: ["failed"], timeout: 60)
        let error = job["error"] as? String ?? ""
        #expect(error.contains("not what its API sends") || error.contains("not a time") || error.contains("header"), "\(error)")
        #expect(try await env.stack.get("/healthz").status == 200)
        #expect(env.stack.worker?.isRunning == true)
        #expect(!env.stack.log().contains("Fatal error"))
    }

    @Test("a job whose worker keeps dying is not claimed forever: past the attempt limit it ends failed, and the worker serves")
    func crashLoopEnds() async throws {
        let env = try await CaptureEnvironment.start(extra: [
            "SWITCHBOARD_JOB_LEASE_SECONDS": "2", "SWITCHBOARD_JOB_MAX_ATTEMPTS": "1",
        ])
        defer { env.stop() }
        try await env.slowDown(latencyMs: 400)
        let jobPath = try await env.createCapture(name: "Crash loop")
        _ = try await env.waitForJob(jobPath, toBe: ["running"])
        let worker = try #require(env.stack.worker)
        kill(worker.processIdentifier, SIGKILL)
        terminateAndWait(worker)
        try? FileManager.default.removeItem(atPath: env.stack.socket)
        try env.stack.startWorker()
        let job = try await env.waitForJob(jobPath, toBe: ["failed"], timeout: 60)
        #expect((job["error"] as? String)?.contains("Gave up after 1 attempt:") == true, "\(job["error"] ?? "")")
        #expect(try await env.stack.get("/captures").status == 200)
    }
}
