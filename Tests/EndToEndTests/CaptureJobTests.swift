import Foundation
import SwitchboardTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Captures as background jobs, through real nginx, the real worker and the `switchboard
/// sandbox` Front stand-in: launched from the form, polled as JSON, cancelled, resumed after a
/// `kill -9`, shared by two workers, and seen in a headless browser while running.
@Suite("Capture jobs behind nginx", .serialized)
struct CaptureJobTests {
    static let apiToken = "e2e-script-token"
    static let resources = ["channels", "contacts", "conversations", "events", "inboxes", "tags", "teammates", "teams"]

    @Test("a capture saved from the form runs to the end; its collections match the sandbox's truth")
    func launchFromForm() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let jobPath = try await env.createCapture(name: "Acme Support")
        #expect(jobPath.hasPrefix("/jobs/"))
        let job = try await env.waitForJob(jobPath, toBe: ["succeeded"])
        #expect(job["error"] is NSNull)
        #expect(job["capture"] as? Int == 1)
        #expect(job["requests"] as? Int ?? 0 > 0)
        #expect((job["started_at"] as? String)?.hasSuffix("Z") == true)
        #expect((job["finished_at"] as? String)?.hasSuffix("Z") == true)
        let bindings = job["bindings"] as? [[String: Any]] ?? []
        #expect(bindings.count == 8)
        #expect(bindings.allSatisfy { $0["done"] as? Bool == true })
        try await env.expectCollectionsMatchTruth(prefix: "acme-support")

        // The collections pages: the list, one collection (encoded and decoded name), 404s.
        let list = try await env.stack.get("/collections")
        #expect(list.text.contains(#"href="/collections/acme-support%2Fchannels""#))
        let encoded = try await env.stack.get("/collections/acme-support%2Fcontacts")
        #expect(encoded.status == 200)
        #expect(encoded.text.contains("<pre class=\"json\">"))
        let decoded = try await env.stack.get("/collections/acme-support/contacts")
        #expect(decoded.status == 200)
        #expect(try await env.stack.get("/collections/nope%2Fnothing").status == 404)
        let captures = try await env.stack.get("/captures")
        #expect(captures.text.contains("Acme Support"))
        #expect(captures.text.contains("succeeded"))
        #expect(!captures.text.contains(env.frontToken))
    }

    @Test("Cancel stops a running job; it ends cancelled")
    func cancel() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        try await env.slowDown()
        let jobPath = try await env.createCapture(name: "Cancel me")
        _ = try await env.waitForJob(jobPath, toBe: ["running"])
        let page = try await env.stack.get(jobPath, headers: ["Cookie": env.cookie])
        #expect(page.text.contains("Cancel</button>"))
        let cancel = try await env.stack.post(jobPath + "/cancel", form: [("_csrf", env.csrf)], cookie: env.cookie)
        #expect(cancel.status == 303)
        let job = try await env.waitForJob(jobPath, toBe: ["cancelled"])
        #expect(job["finished_at"] is String)
    }

    @Test("a worker killed with SIGKILL mid-job: after a restart the job resumes and nothing is lost or duplicated")
    func resumeAfterKill() async throws {
        let env = try await CaptureEnvironment.start(extra: ["SWITCHBOARD_JOB_LEASE_SECONDS": "3"])
        defer { env.stop() }
        try await env.slowDown(latencyMs: 1000)
        let jobPath = try await env.createCapture(name: "Crashy")
        // Killed with most of the event feed (~6 pages) still to read: well after a commit, well
        // before the end, whatever the lag of the saved progress (a heartbeat every 0.5 s).
        _ = try await env.waitForJob(jobPath, toBe: ["running"]) { job in
            let bindings = job["bindings"] as? [[String: Any]] ?? []
            guard let events = bindings.first(where: { $0["resource"] as? String == "events" }) else { return false }
            let pages = events["pages"] as? Int ?? 0
            return bindings.contains { ($0["documents"] as? Int ?? 0) > 0 } && events["done"] as? Bool == false
                && (1...3).contains(pages)
        }
        let worker = try #require(env.stack.worker)
        kill(worker.processIdentifier, SIGKILL)
        terminateAndWait(worker)  // waits until the pid is gone
        try? FileManager.default.removeItem(atPath: env.stack.socket)
        try env.stack.startWorker()
        try await env.clearFaults()
        let job = try await env.waitForJob(jobPath, toBe: ["succeeded"], timeout: 120)
        #expect(job["attempts"] as? Int ?? 0 >= 2)
        try await env.expectCollectionsMatchTruth(prefix: "crashy")
    }

    @Test("two worker processes on one database run each job exactly once, one Front company's jobs in one worker at a time")
    func twoWorkers() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let secondLog = env.stack.folder.appendingPathComponent("worker2.log").path
        _ = try env.stack.launchExtra(
            Stack.binary, ["serve", "--socket", env.stack.folder.appendingPathComponent("w2.sock").path], log: secondLog)
        var jobs: [String] = []
        for index in 1...4 { jobs.append(try await env.createCapture(name: "Team \(index)")) }
        for job in jobs { _ = try await env.waitForJob(job, toBe: ["succeeded"], timeout: 120) }
        let logs = env.stack.log() + ((try? String(contentsOfFile: secondLog, encoding: .utf8)) ?? "")
        let lines = logs.components(separatedBy: "\n")
        for job in jobs {
            let id = job.split(separator: "/").last!
            let mine = lines.filter { $0.contains("job=\(id) ") }
            // Run to the end once. A worker that claimed it first and then found (from /me) that
            // the other spends this company's budget handed it back without reading anything.
            #expect(mine.filter { $0.contains("job succeeded") }.count == 1, "job \(id): \(mine)")
            let claims = mine.filter { $0.contains("job claimed") }.count
            let handedBack = mine.filter { $0.contains("job handed back: another runner") }.count
            #expect(claims == 1 + handedBack, "job \(id) was claimed \(claims) times, handed back \(handedBack)")
            let json = try await env.apiJSON("/api/jobs/\(id)")
            #expect(json["attempts"] as? Int == claims)
        }
    }

    @Test("bad form input re-renders the form with the fields marked, values kept, the token not echoed")
    func badForm() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let reply = try await env.stack.post(
            "/captures",
            form: [("_csrf", env.csrf), ("name", "Café <b>"), ("token", "has spaces secret"), ("start_date", "yesterday")],
            cookie: env.cookie)
        #expect(reply.status == 422)
        #expect(reply.text.contains(#"value="Café &lt;b&gt;""#))
        #expect(reply.text.contains(#"value="yesterday""#))
        #expect(!reply.text.contains("has spaces secret"))
        #expect(reply.text.contains(#"id="token_error""#))
        #expect(reply.text.contains(#"id="start_date_error""#))
        #expect(reply.text.contains(#"id="resources_error""#))
        #expect(!reply.text.contains(#"id="name_error""#))
        #expect(reply.text.components(separatedBy: #"aria-invalid="true""#).count - 1 == 3)
        // Nothing was saved.
        let list = try await env.apiJSON("/api/jobs")
        #expect((list["jobs"] as? [Any])?.isEmpty == true)
    }

    @Test("the API: 401 without a valid token, ETag and 304, 409 while a job of the capture runs, filters")
    func api() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let anonymous = try await env.stack.get("/api/jobs")
        #expect(anonymous.status == 401)
        #expect(anonymous.header("Content-Type")?.hasPrefix("application/json") == true)
        let error = try JSONSerialization.jsonObject(with: anonymous.body) as? [String: Any]
        #expect((error?["error"] as? [String: Any])?["status"] as? String == "401")
        #expect(try await env.stack.get("/api/jobs", headers: ["Authorization": "Bearer wrong"]).status == 401)
        #expect(try await env.stack.send("POST", "/api/captures/1/jobs").status == 401)

        try await env.slowDown()
        let jobPath = try await env.createCapture(name: "Scripted")
        _ = try await env.waitForJob(jobPath, toBe: ["running"])
        let duplicate = try await env.stack.send(
            "POST", "/api/captures/1/jobs", headers: ["Authorization": "Bearer \(Self.apiToken)"])
        #expect(duplicate.status == 409)
        let conflict = try JSONSerialization.jsonObject(with: duplicate.body) as? [String: Any]
        #expect((conflict?["job"] as? [String: Any])?["id"] as? Int == Int(jobPath.split(separator: "/").last!))
        // "Sync now" in the browser says so too, instead of queuing another.
        let again = try await env.stack.post("/captures/1/jobs", form: [("_csrf", env.csrf)], cookie: env.cookie)
        #expect(again.header("Location") == jobPath + "?already=1")

        try await env.clearFaults()
        _ = try await env.waitForJob(jobPath, toBe: ["succeeded"])
        let first = try await env.stack.get("/api\(jobPath)", headers: ["Authorization": "Bearer \(Self.apiToken)"])
        let etag = try #require(first.header("ETag"))
        let second = try await env.stack.get(
            "/api\(jobPath)", headers: ["Authorization": "Bearer \(Self.apiToken)", "If-None-Match": etag])
        #expect(second.status == 304)
        let page = try await env.stack.get(jobPath, headers: ["Accept": "application/json", "If-None-Match": etag])
        #expect(page.status == 304)

        let started = try await env.stack.send(
            "POST", "/api/captures/1/jobs", headers: ["Authorization": "Bearer \(Self.apiToken)"])
        #expect(started.status == 201)
        let newJob = try JSONSerialization.jsonObject(with: started.body) as? [String: Any]
        #expect(newJob?["requested_by"] as? String == "api:env-1")
        let succeeded = try await env.apiJSON("/api/jobs?capture=1&state=succeeded")
        #expect((succeeded["jobs"] as? [[String: Any]])?.map { $0["state"] as? String } == ["succeeded"])
        #expect(
            try await env.stack.get("/api/jobs?state=bogus", headers: ["Authorization": "Bearer \(Self.apiToken)"]).status == 400)
        let metrics = try await env.stack.get("/metrics")
        #expect(metrics.text.contains("switchboard_jobs{state=\"succeeded\"}"))
    }

    @Test("a token made on /settings works on /api/ until revoked; it is shown once")
    func settingsTokens() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let created = try await env.stack.post(
            "/settings/tokens", form: [("_csrf", env.csrf), ("name", "nightly")], cookie: env.cookie)
        #expect(created.status == 200)
        let token = try #require(created.text.firstMatch(of: #/sb_[A-Za-z0-9_-]{40,}/#).map { String($0.output) })
        #expect(try await env.stack.get("/api/jobs", headers: ["Authorization": "Bearer \(token)"]).status == 200)
        let later = try await env.stack.get("/settings", headers: ["Cookie": env.cookie])
        #expect(!later.text.contains(token))
        #expect(later.text.contains("nightly"))
        let revoke = try await env.stack.post("/settings/tokens/1/revoke", form: [("_csrf", env.csrf)], cookie: env.cookie)
        #expect(revoke.status == 303)
        #expect(try await env.stack.get("/api/jobs", headers: ["Authorization": "Bearer \(token)"]).status == 401)
    }

    @Test("the job page while running, in headless Chromium: a progress bar per binding (screenshot kept in artifacts/)")
    func screenshot() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            Issue.record("chromium is missing: scripts/test installs it with scripts/deps chromium")
            return
        }
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        // Slow enough that the job still runs while Chromium starts on a loaded machine: ~6 pages
        // of events at 2 s each, and the page is read after the first.
        try await env.slowDown(latencyMs: 2000)
        let jobPath = try await env.createCapture(name: "Screenshot")
        _ = try await env.waitForJob(jobPath, toBe: ["running"]) { job in
            let bindings = job["bindings"] as? [[String: Any]] ?? []
            let events = bindings.first { $0["resource"] as? String == "events" }
            return bindings.contains { ($0["documents"] as? Int ?? 0) > 0 } && (events?["pages"] as? Int ?? 0) <= 1
        }
        let artifacts = Stack.root.appendingPathComponent("artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let png = artifacts.appendingPathComponent("job-running.png").path
        try? FileManager.default.removeItem(atPath: png)
        let url = env.stack.baseURL + jobPath
        let dom = try chromium(["--dump-dom", url])
        try dom.write(to: artifacts.appendingPathComponent("job-running.html"), atomically: true, encoding: .utf8)
        #expect(dom.components(separatedBy: #"role="progressbar""#).count - 1 == 8)
        #expect(dom.contains("running"))
        _ = try chromium(["--screenshot=\(png)", "--window-size=1200,900", url])
        let size = (try FileManager.default.attributesOfItem(atPath: png)[.size] as? NSNumber)?.intValue ?? 0
        #expect(size > 20_000)
    }

    private func chromium(_ arguments: [String]) throws -> String {
        try runProgram("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + arguments)
            .output
    }
}

/// A stack with the Front sandbox beside it, its variables passed to the worker, an API token,
/// and a browser session (CSRF cookie) for the forms.
final class CaptureEnvironment: @unchecked Sendable {
    let stack: Stack
    let frontBaseURL: String
    let frontToken: String
    private(set) var cookie = ""
    private(set) var csrf = ""

    private init(stack: Stack, frontBaseURL: String, frontToken: String) {
        self.stack = stack
        self.frontBaseURL = frontBaseURL
        self.frontToken = frontToken
    }

    static func start(extra: [String: String] = [:]) async throws -> CaptureEnvironment {
        let stack = try Stack(
            environment: ["SWITCHBOARD_API_TOKENS": CaptureJobTests.apiToken].merging(extra) { $1 },
            sandbox: [
                "--conversations", "30", "--events-per-conversation", "3", "--contacts", "60", "--rate-limit", "6000",
                "--no-burst",
            ])
        do {
            try await stack.start()
            let env = CaptureEnvironment(
                stack: stack, frontBaseURL: stack.frontURL, frontToken: stack.environment["FRONT_API_TOKEN"]!)
            let form = try await stack.get("/captures/new")
            env.csrf = try #require(cookieValue(form.header("Set-Cookie"), name: "sb_csrf"))
            env.cookie = "sb_csrf=\(env.csrf)"
            return env
        } catch {
            stack.stop()
            throw error
        }
    }

    func stop() { stack.stop() }

    /// Saves a capture of all eight resources through the form; answers the job's path.
    func createCapture(name: String) async throws -> String {
        var form = [("_csrf", csrf), ("name", name), ("token", frontToken), ("start_date", "")]
        form += CaptureJobTests.resources.map { ("resources", $0) }
        let reply = try await stack.post("/captures", form: form, cookie: cookie)
        guard reply.status == 303, let location = reply.header("Location") else {
            throw StackError("saving the capture answered \(reply.status): \(reply.text.prefix(500))")
        }
        return location
    }

    func apiJSON(_ path: String) async throws -> [String: Any] {
        let reply = try await stack.get(path, headers: ["Authorization": "Bearer \(CaptureJobTests.apiToken)"])
        guard reply.status == 200, let json = try JSONSerialization.jsonObject(with: reply.body) as? [String: Any] else {
            throw StackError("GET \(path) answered \(reply.status): \(reply.text.prefix(300))")
        }
        return json
    }

    /// Polls `GET /api/jobs/{id}` until the job is in one of `states` (and `also` holds).
    @discardableResult
    func waitForJob(
        _ jobPath: String, toBe states: Set<String>, timeout: TimeInterval = 90,
        also: @escaping @Sendable ([String: Any]) -> Bool = { _ in true }
    ) async throws -> [String: Any] {
        let box = LastJob()
        try await waitUntil("\(jobPath) is \(states.sorted().joined(separator: " or "))", timeout: timeout) {
            guard let job = try? await self.apiJSON("/api\(jobPath)") else { return false }
            box.value = job
            if let state = job["state"] as? String, !states.contains(state), ["succeeded", "failed", "cancelled"].contains(state)
            {
                return true  // ended otherwise: stop waiting, the caller's expectation reports it
            }
            return states.contains(job["state"] as? String ?? "") && also(job)
        }
        let job = box.value ?? [:]
        #expect(states.contains(job["state"] as? String ?? ""), "job ended \(job["state"] ?? "?"): \(job["error"] ?? "")")
        return job
    }

    /// Every Front request takes this much longer, so a job is observably running: the whole
    /// job is a handful of pages now (conversations ride on events), so each must take a while.
    func slowDown(latencyMs: Int = 1500) async throws {
        try await sandbox("POST", "/_sandbox/faults", body: ["latency_ms": latencyMs])
    }

    func clearFaults() async throws {
        try await sandbox("DELETE", "/_sandbox/faults")
    }

    @discardableResult
    func sandbox(_ method: String, _ path: String, body: [String: Any]? = nil) async throws -> Any {
        var request = URLRequest(url: URL(string: frontBaseURL + path)!)
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, _) = try await Stack.session.data(for: request)
        return try JSONSerialization.jsonObject(with: data)
    }

    /// Every collection, downloaded as NDJSON through nginx, holds exactly the ids the sandbox
    /// says a complete capture must hold: none missing, none twice.
    func expectCollectionsMatchTruth(prefix: String) async throws {
        let truth = try await sandbox("GET", "/_sandbox/truth") as? [String: Any] ?? [:]
        func ids(_ key: String) -> [String] {
            (truth[key] as? [Any] ?? []).compactMap { ($0 as? String) ?? ($0 as? [String: Any])?["id"] as? String }
        }
        for resource in CaptureJobTests.resources {
            let reply = try await stack.get("/collections/\(prefix)%2F\(resource).ndjson")
            #expect(reply.status == 200, "\(resource): \(reply.status)")
            #expect(reply.header("Content-Type") == "application/x-ndjson")
            let lines = reply.text.split(separator: "\n")
            let got = try lines.map { line -> String in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return object?["id"] as? String ?? ""
            }
            let expected = ids(resource)
            #expect(!expected.isEmpty, "the truth has no \(resource)")
            #expect(got.count == Set(got).count, "\(resource): duplicated documents")
            #expect(
                Set(got) == Set(expected),
                "\(resource): \(Set(expected).subtracting(got).count) missing, \(Set(got).subtracting(expected).count) unexpected"
            )
        }
    }
}

private final class LastJob: @unchecked Sendable {
    var value: [String: Any]?
}
