import Foundation
import SwitchboardTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Captures that keep themselves fresh, through nginx, the real worker, a second runner process
/// and the Front stand-in: scheduled runs start on time and once, however many runners share
/// the database; runs missed while the service was down collapse into one; a paused schedule
/// starts nothing.
@Suite("Scheduled captures", .serialized)
struct ScheduleTests {
    static let auth = ["Authorization": "Bearer \(CaptureJobTests.apiToken)", "Content-Type": "application/json"]

    @Test("runs every minute happen on time and exactly once with two runner processes on one database")
    func onTimeAndOnce() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let secondLog = env.stack.folder.appendingPathComponent("runner2.log").path
        _ = try env.stack.launchExtra(Stack.binary, ["jobs"], log: secondLog)

        var captures: [Int] = []
        for index in 1...3 {
            captures.append(try await create(env, ["name": "Every minute \(index)", "every_minutes": 1]))
        }
        // The first run of each is due at once; the second a minute after the first ended.
        for capture in captures {
            try await waitUntil("capture \(capture) has run twice", timeout: 150) {
                (try? await jobs(env, capture).filter { $0["state"] as? String == "succeeded" }.count) ?? 0 >= 2
            }
        }
        let logs = env.stack.log() + ((try? String(contentsOfFile: secondLog, encoding: .utf8)) ?? "")
        for capture in captures {
            let all = try await jobs(env, capture).reversed()  // oldest first
            let ended = all.filter { $0["state"] as? String == "succeeded" }
            #expect(ended.count >= 2)
            guard ended.count >= 2 else { continue }
            #expect(ended.allSatisfy { $0["requested_by"] as? String == "schedule" })
            let firstEnd = try #require(date(ended[0]["finished_at"]))
            let secondQueued = try #require(date(ended[1]["created_at"]))
            // Never early; late by no more than a few polls (whole seconds in the JSON).
            #expect(secondQueued.timeIntervalSince(firstEnd) >= 59, "queued \(secondQueued) after an end at \(firstEnd)")
            #expect(secondQueued.timeIntervalSince(firstEnd) < 90, "queued \(secondQueued) after an end at \(firstEnd)")
            // At most one more (the third, a minute after the second) and each claimed once.
            #expect(all.count <= 3)
            for job in all {
                let id = job["id"] as? Int ?? -1
                let mine = logs.components(separatedBy: "\n").filter { $0.contains("job=\(id) ") }
                // Run once; a claim by the runner that then learns (from /me) that the other holds
                // the company's lease is handed back before any list is read.
                #expect(mine.filter { $0.contains("job succeeded") }.count <= 1, "job \(id): \(mine)")
                let claims = mine.filter { $0.contains("job claimed") }.count
                let handedBack = mine.filter { $0.contains("job handed back: another runner") }.count
                #expect(claims <= 1 + handedBack, "job \(id) was claimed \(claims) times, handed back \(handedBack)")
            }
        }
        let one = try await env.apiJSON("/api/captures/\(captures[0])")
        #expect(one["every_minutes"] as? Int == 1)
        #expect(one["paused"] as? Bool == false)
        let page = try await env.stack.get("/captures")
        #expect(page.text.contains("every minute"))
        #expect(page.text.contains("as of"))
    }

    @Test("runs missed while the service was down collapse into one run at start-up")
    func missedRunsCollapse() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let capture = try await create(env, ["name": "Missed", "every_minutes": 1])
        try await waitUntil("the first run ended", timeout: 90) {
            (try? await jobs(env, capture).first?["state"] as? String) == "succeeded"
        }
        // Stop the worker, then let three hours pass in the database: its last run ended then.
        let worker = try #require(env.stack.worker)
        terminateAndWait(worker)
        let database = try #require(env.stack.environment["SWITCHBOARD_DB"])
        let shift = try runProgram(
            "/usr/bin/env",
            [
                "sqlite3", database,
                "UPDATE job SET createdAt = createdAt - 10800, startedAt = startedAt - 10800, finishedAt = finishedAt - 10800;"
                    + " UPDATE capture SET nextRunAt = nextRunAt - 10800;",
            ])
        #expect(shift.status == 0)
        try? FileManager.default.removeItem(atPath: env.stack.socket)
        try env.stack.startWorker()

        // 180 runs were missed: exactly one happens now, and the next only a minute after it.
        try await waitUntil("the catch-up run ended", timeout: 60) {
            let all = (try? await jobs(env, capture)) ?? []
            return all.count == 2 && all.first?["state"] as? String == "succeeded"
        }
        try await Task.sleep(for: .seconds(10))
        let all = try await jobs(env, capture)
        #expect(all.count == 2, "\(all.count) jobs: \(all.map { $0["created_at"] ?? "" })")
        let next = try #require(date(try await env.apiJSON("/api/captures/\(capture)")["next_run_at"]))
        let end = try #require(date(all[0]["finished_at"]))
        #expect(abs(next.timeIntervalSince(end) - 60) < 2)
    }

    @Test("a paused schedule starts nothing; resuming starts the run that is due")
    func pauseAndResume() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let manual = try await create(env, ["name": "Later", "every_minutes": NSNull()])
        #expect(try await env.apiJSON("/api/captures/\(manual)")["next_run_at"] is NSNull)
        let paused = try await patch(env, manual, ["every_minutes": 1, "paused": true])
        #expect(paused["paused"] as? Bool == true)
        #expect(paused["next_run_at"] is NSNull)
        try await Task.sleep(for: .seconds(4))  // several runner polls
        #expect(try await jobs(env, manual).isEmpty)
        let page = try await env.stack.get("/captures/\(manual)")
        #expect(page.text.contains("Resume"))

        let resumed = try await patch(env, manual, ["paused": false])
        #expect(resumed["next_run_at"] is String)
        try await waitUntil("the resumed schedule's run ended", timeout: 60) {
            (try? await jobs(env, manual).first?["state"] as? String) == "succeeded"
        }
        #expect(try await jobs(env, manual).first?["requested_by"] as? String == "schedule")
    }

    // MARK: Helpers

    /// Creates a capture of a few small resources through the API; answers its id.
    private func create(_ env: CaptureEnvironment, _ fields: [String: Any]) async throws -> Int {
        var body: [String: Any] = ["access_token": env.frontToken, "resources": ["tags", "teams", "inboxes"]]
        body.merge(fields) { $1 }
        let reply = try await env.stack.send(
            "POST", "/api/captures", headers: Self.auth, body: try JSONSerialization.data(withJSONObject: body))
        guard reply.status == 201, let json = try JSONSerialization.jsonObject(with: reply.body) as? [String: Any],
            let id = json["id"] as? Int
        else { throw StackError("POST /api/captures answered \(reply.status): \(reply.text.prefix(400))") }
        return id
    }

    private func patch(_ env: CaptureEnvironment, _ id: Int, _ fields: [String: Any]) async throws -> [String: Any] {
        let reply = try await env.stack.send(
            "PATCH", "/api/captures/\(id)", headers: Self.auth, body: try JSONSerialization.data(withJSONObject: fields))
        guard reply.status == 200, let json = try JSONSerialization.jsonObject(with: reply.body) as? [String: Any] else {
            throw StackError("PATCH /api/captures/\(id) answered \(reply.status): \(reply.text.prefix(400))")
        }
        return json
    }

    /// The capture's jobs, newest first.
    private func jobs(_ env: CaptureEnvironment, _ capture: Int) async throws -> [[String: Any]] {
        try await env.apiJSON("/api/jobs?capture=\(capture)")["jobs"] as? [[String: Any]] ?? []
    }

    private func date(_ value: Any?) -> Date? {
        (value as? String).flatMap { try? Date($0, strategy: .iso8601) }
    }
}
