import Foundation
import SwitchboardTesting
import Testing

/// The worker on PostgreSQL, through real nginx and the Front stand-in, as a team that outgrew
/// SQLite meets it: `switchboard migrate` copies the file into a new database (a throw-away
/// cluster of this test process), and the worker started on `SWITCHBOARD_DATABASE_URL` shows
/// everything it had and goes on capturing.
@Suite("On PostgreSQL behind nginx", .serialized)
struct PostgresTests {
    @Test("migrate copies the SQLite database; the worker on PostgreSQL shows the same captures and runs the next job")
    func migrateThenServe() async throws {
        let env = try await CaptureEnvironment.start()
        defer { env.stop() }
        let stack = env.stack
        let first = try await env.createCapture(name: "Acme Support")
        _ = try await env.waitForJob(first, toBe: ["succeeded"])
        // Each row's name, counts and update time (its ISO stamp; "… ago" moves with the clock).
        func collectionRows() async throws -> String {
            try await stack.get("/collections").text.replacingOccurrences(
                of: ">[^<]*</time>", with: "></time>", options: .regularExpression)
        }
        let collectionsBefore = try await collectionRows()
        #expect(collectionsBefore.contains("acme-support/events"))

        // The worker stops; the file is copied into an empty PostgreSQL database.
        let worker = try #require(stack.worker)
        terminateAndWait(worker)
        try? FileManager.default.removeItem(atPath: stack.socket)
        let (url, drop) = try PostgresServer.shared().freshDatabase()
        defer { drop() }
        var environment = stack.environment
        environment["SWITCHBOARD_DATABASE_URL"] = url
        let migrate = try runProgram(
            switchboardBinary, ["migrate", "--db", try #require(stack.environment["SWITCHBOARD_DB"])],
            environment: environment)
        #expect(migrate.status == 0, "migrate: \(migrate.output)")
        for table in ["capture", "job", "document", "checkpoint", "audit"] {
            #expect(migrate.output.contains("  \(table) "), "no count of \(table)")
        }
        #expect(!migrate.output.contains(" mismatch"))
        let password = try #require(URLComponents(string: url)?.password)
        #expect(!migrate.output.contains(password))

        // A second copy into the same database is refused, in words.
        let again = try runProgram(
            switchboardBinary, ["migrate", "--db", try #require(stack.environment["SWITCHBOARD_DB"])],
            environment: environment)
        #expect(again.status != 0)

        // The worker on PostgreSQL: the same capture, the same collections, and the next job.
        stack.environment = environment
        try stack.startWorker()
        let captures = try await stack.get("/captures")
        #expect(captures.status == 200)
        #expect(captures.text.contains("Acme Support"))
        #expect(captures.text.contains("succeeded"))
        #expect(try await collectionRows() == collectionsBefore)

        try await env.sandbox("POST", "/_sandbox/conversations/change", body: ["count": 3, "change": "archive"])
        let started = try await stack.send(
            "POST", "/api/captures/1/jobs", headers: ["Authorization": "Bearer \(CaptureJobTests.apiToken)"])
        #expect(started.status == 201, "\(started.status): \(started.text.prefix(300))")
        let next = try #require(started.header("Location")).replacingOccurrences(of: "/api/jobs/", with: "/jobs/")
        let job = try await env.waitForJob(next, toBe: ["succeeded"])
        #expect(job["id"] as? Int == 2)
        try await env.expectCollectionsMatchTruth(prefix: "acme-support")
        #expect(!stack.log().contains(password))
    }
}
