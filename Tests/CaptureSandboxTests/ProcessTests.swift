import Foundation
import SwitchboardTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The commands as an operator runs them: `switchboard-sandbox`, `switchboard capture` and
/// `switchboard export` as processes, talking over loopback. Processes are stopped by their
/// own handles, nothing else.
@Suite(.serialized) struct CaptureProcessTests {

    /// `switchboard-sandbox`, built beside `switchboard`.
    static var sandboxBinary: String {
        URL(fileURLWithPath: switchboardBinary).deletingLastPathComponent().appendingPathComponent("switchboard-sandbox").path
    }

    @Test func captureThenExportMatchesTheSandboxAndBadConfigsSendNothing() async throws {
        let folder = try makeTemporaryFolder("sb-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let envFile = folder.appendingPathComponent("sandbox.env").path

        let sandbox = try launch(
            [
                "--conversations", "40", "--events-per-conversation", "3", "--contacts", "120",
                "--rate-limit", "6000", "--minute-seconds", "6", "--no-burst", "--env-file", envFile,
            ],
            program: Self.sandboxBinary, output: folder.appendingPathComponent("sandbox.log"))
        defer { terminateAndWait(sandbox) }
        let env = try await sandboxEnvironment(envFile, sandbox: sandbox)
        let base = try #require(env["FRONT_BASE_URL"])
        let token = try #require(env["FRONT_API_TOKEN"])
        let db = folder.appendingPathComponent("capture.sqlite").path
        var environment = ["FRONT_BASE_URL": base]

        // Bad configurations: refused by name, before any request.
        let badConfigs: [(config: String, field: String)] = [
            (
                #"{"config":{"credentials":{"access_token":"t"}},"bindings":[{"resource":{"name":"tickets"},"target":"x"}]}"#,
                "bindings[0].resource.name"
            ),
            (
                #"{"config":{"credentials":{"access_token":"t"},"start_date":"2024-13-01"},"bindings":[{"resource":{"name":"tags"},"target":"x"}]}"#,
                "config.start_date"
            ),
            (
                #"{"config":{},"bindings":[{"resource":{"name":"tags"},"target":"x"}]}"#,
                "config.credentials.access_token"
            ),
        ]
        for (index, bad) in badConfigs.enumerated() {
            let file = folder.appendingPathComponent("bad\(index).json")
            try Data(bad.config.utf8).write(to: file)
            let result = try await run(["capture", "--config", file.path, "--db", db], environment: environment)
            #expect(result.status != 0, "\(bad.field): exit \(result.status)")
            #expect(result.stderr.contains(bad.field), "\(bad.field) not named in: \(result.stderr)")
        }
        let idle = try await getJSON(base + "/_sandbox/stats")
        #expect(idle["total"] as? Int == 0, "bad configurations made requests: \(idle)")

        // A real capture, the token from the environment as the sandbox's env file gives it.
        environment["FRONT_API_TOKEN"] = token
        let config = folder.appendingPathComponent("capture.yaml")
        try Data(
            """
            config:
              credentials:
                access_token: placeholder-replaced-by-FRONT_API_TOKEN
              start_date: "2024-12-01T00:00:00Z"
            bindings:
            \(["channels", "contacts", "conversations", "events", "inboxes", "tags", "teammates", "teams"]
                .map { "  - resource: {name: \($0)}\n    target: acme/\($0)" }.joined(separator: "\n"))

            """.utf8
        ).write(to: config)
        let capture = try await run(["capture", "--config", config.path, "--db", db], environment: environment)
        #expect(capture.status == 0, "\(capture.stderr)")
        #expect(capture.stderr.contains("capture done:"))
        #expect(capture.stderr.contains("acme/events (events): done"))
        #expect(capture.stderr.contains("acme/conversations (conversations): done"))
        #expect(!capture.stderr.contains(token), "the token was printed")

        let truth = Truth(try await getJSON(base + "/_sandbox/truth"))
        for (resource, field) in [
            ("events", "emitted_at"), ("contacts", "updated_at"), ("conversations", "updated_at"),
            ("tags", "updated_at"), ("channels", "id"), ("teams", "id"),
        ] {
            let export = try await run(["export", "acme/\(resource)", "--db", db], environment: environment)
            #expect(export.status == 0, "\(export.stderr)")
            var exported: [String: String] = [:]
            for line in export.stdout.split(separator: "\n") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let id = try #require(object["id"] as? String)
                exported[id] = field == "id" ? id : describe(object[field])
            }
            let expected =
                field == "id"
                ? Dictionary(uniqueKeysWithValues: truth.ids(resource).map { ($0, $0) })
                : truth.field(resource, field)
            #expect(exported == expected, "\(resource) export differs from the sandbox's truth")
        }

        let unknown = try await run(["export", "acme/nothing", "--db", db], environment: environment)
        #expect(unknown.status != 0 && unknown.stderr.contains("no collection acme/nothing"))

        // SIGKILL a capture part way (by its own pid), run it again: the exports are identical.
        // Slow answers (a latency fault) keep it reliably mid-way when the kill comes.
        let killedDB = folder.appendingPathComponent("killed.sqlite").path
        try await sendJSON("POST", base + "/_sandbox/faults", #"{"latency_ms":400}"#)
        let before = try await getJSON(base + "/_sandbox/stats")["total"] as? Int ?? 0
        let victim = try launch(
            ["capture", "--config", config.path, "--db", killedDB], output: folder.appendingPathComponent("killed.log"),
            environment: environment)
        var sent = 0
        while victim.isRunning, sent < 4 {
            sent = (try await getJSON(base + "/_sandbox/stats")["total"] as? Int ?? 0) - before
            if sent < 4 { try await Task.sleep(for: .milliseconds(5)) }
        }
        let killedMidway = victim.isRunning
        kill(victim.processIdentifier, SIGKILL)
        terminateAndWait(victim)
        try await sendJSON("DELETE", base + "/_sandbox/faults", nil)
        let victimLog = (try? String(contentsOf: folder.appendingPathComponent("killed.log"), encoding: .utf8)) ?? ""
        #expect(
            killedMidway,
            "the capture ended (status \(victim.terminationStatus)) after \(sent) requests: \(victimLog.suffix(600))")
        let resumed = try await run(["capture", "--config", config.path, "--db", killedDB], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        for resource in ["channels", "contacts", "conversations", "events", "inboxes", "tags", "teammates", "teams"] {
            let whole = try await run(["export", "acme/\(resource)", "--db", db], environment: environment)
            let again = try await run(["export", "acme/\(resource)", "--db", killedDB], environment: environment)
            #expect(whole.stdout == again.stdout, "acme/\(resource) differs after a kill and a resume")
        }
    }

    // MARK: Processes

    struct Finished {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    private func launch(
        _ arguments: [String], program: String = switchboardBinary, output: URL, environment: [String: String]? = nil
    ) throws -> Process {
        try launchProcess(
            program, arguments,
            environment: environment.map {
                ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].merging($0) { $1 }
            },
            log: output.path)
    }

    /// Runs a command to its end; stdout and stderr go through files, so a large export cannot
    /// fill a pipe and stall.
    private func run(_ arguments: [String], environment: [String: String]) async throws -> Finished {
        let folder = try makeTemporaryFolder("sb-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out")
        let err = folder.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: switchboardBinary)
        process.arguments = arguments
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            process.terminationHandler = { _ in done.resume() }
            do { try process.run() } catch { done.resume() }
        }
        return Finished(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    /// Waits until the sandbox has written its env file (it does once both servers answer).
    private func sandboxEnvironment(_ path: String, sandbox: Process) async throws -> [String: String] {
        for _ in 0..<600 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("SWITCHBOARD_SANDBOX=1") {
                var values: [String: String] = [:]
                for line in text.split(separator: "\n") {
                    let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                    if parts.count == 2 { values[parts[0]] = parts[1] }
                }
                return values
            }
            guard sandbox.isRunning else { throw TestFailure("switchboard-sandbox exited with \(sandbox.terminationStatus)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("switchboard-sandbox wrote no env file in 30 s")
    }

    private func sendJSON(_ method: String, _ url: String, _ body: String?) async throws {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        _ = try await URLSession.shared.data(for: request)
    }

    private func getJSON(_ url: String) async throws -> [String: Any] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }
}
