import Foundation
import SwitchboardTesting
import Testing

/// The foundation through real nginx and the real worker: pages, static files, forms, the
/// CSRF guard, error pages, concurrency and a graceful stop.
@Suite("Worker behind nginx", .serialized)
struct FoundationTests {
    @Test("a page renders through the shared layout, styled from /static")
    func pageThroughLayout() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let reply = try await stack.get("/connectors")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "text/html; charset=utf-8")
        #expect(reply.text.contains("<title>Connectors · Switchboard</title>"))
        #expect(reply.text.contains(#"<link rel="stylesheet" href="/static/app.css">"#))
        #expect(reply.text.contains(#"<a href="/connectors" aria-current="page">Connectors</a>"#))
        #expect(reply.header("X-Request-Id")?.isEmpty == false)

        let home = try await stack.get("/")
        #expect(home.status == 302)
        #expect(home.header("Location") == "/connectors")
    }

    @Test("static files come from nginx with cache headers; the worker never sees them")
    func staticFromNginx() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let css = try await stack.get("/static/app.css")
        #expect(css.status == 200)
        #expect(css.header("Content-Type") == "text/css")
        #expect(css.header("Cache-Control")?.contains("max-age=3600") == true)
        _ = try await stack.get("/healthz")  // the worker logs this one…
        try await waitUntil("the worker logged /healthz") { stack.log().contains("GET /healthz 200") }
        #expect(!stack.log().contains("/static/"))  // …but never a static file
    }

    @Test("/healthz answers JSON with status, version and uptime")
    func health() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let reply = try await stack.get("/healthz")
        #expect(reply.header("Content-Type") == "application/json; charset=utf-8")
        let json = try JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
        #expect(json?["status"] as? String == "ok")
        #expect(json?["version"] as? String == "0.1.0")
        #expect(json?["uptime_seconds"] is Int)
    }

    @Test("a POST form round-trips: values kept and escaped, errors marked with 422")
    func formRoundTrip() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let form = try await stack.get("/connectors/new?service=salesforce&name=Caf%C3%A9+%3Cb%3E+Sales")
        #expect(form.status == 200)
        let token = try #require(cookieValue(form.header("Set-Cookie"), name: "sb_csrf"))
        #expect(hiddenField(form.text, name: "_csrf") == token)
        #expect(form.text.contains(#"value="Café &lt;b&gt; Sales""#))
        #expect(form.text.contains(#"value="cafe_b_sales""#))  // suggested schema name

        let bad = try await stack.post(
            "/connectors",
            form: [("_csrf", token), ("service", "salesforce"), ("display_name", "Café <b> Sales"), ("schema", "9bad name")],
            cookie: "sb_csrf=\(token)")
        #expect(bad.status == 422)
        #expect(bad.text.contains(#"value="Café &lt;b&gt; Sales""#))
        #expect(bad.text.contains(#"value="9bad name""#))
        #expect(bad.text.contains("The schema name must start with a lower-case letter."))
        #expect(bad.text.contains(#"aria-invalid="true""#))
        #expect(!bad.text.contains("<b> Sales"))
    }

    @Test("the CSRF guard answers 403 to a forged POST")
    func forgedPost() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let fields = [("service", "salesforce"), ("display_name", "X"), ("schema", "x")]
        let noToken = try await stack.post("/connectors", form: fields)
        #expect(noToken.status == 403)
        #expect(noToken.text.contains("nothing was changed"))
        let forged = try await stack.post("/connectors", form: fields + [("_csrf", "abc")], cookie: "sb_csrf=abc")
        #expect(forged.status == 403)
    }

    @Test("unknown pages 404, wrong methods 405, malformed queries 400 — each a page that says so")
    func errorPages() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let missing = try await stack.get("/no/such/page")
        #expect(missing.status == 404)
        #expect(missing.text.contains("There is no page at this address."))
        #expect(missing.text.contains("<nav>"))

        let wrong = try await stack.send("DELETE", "/connectors")
        #expect(wrong.status == 405)
        #expect(wrong.header("Allow") == "GET, POST, HEAD")

        // URLSession would re-encode a bad escape, so this one goes out raw through curl.
        let malformed = try curl(["-s", "-i", "\(stack.baseURL)/connectors/new?name=%ZZ"])
        #expect(malformed.hasPrefix("HTTP/1.1 400"))
        #expect(malformed.contains("malformed percent-encoding"))

        let json = try await stack.get("/nope", headers: ["Accept": "application/json"])
        #expect(json.status == 404)
        #expect(json.header("Content-Type") == "application/json; charset=utf-8")
    }

    @Test("a body over 1 MiB gets 413 from nginx, and from the worker when sent to it directly")
    func tooLarge() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let big = Data(repeating: UInt8(ascii: "a"), count: (1 << 20) + 10)
        let reply = try await stack.send(
            "POST", "/connectors", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: big)
        #expect(reply.status == 413)
        #expect(reply.text.contains("over the limit of 1 MiB"))

        // Straight to the worker over FastCGI, past nginx (Debian's cgi-fcgi).
        let text = try runProgram(
            "/usr/bin/cgi-fcgi", ["-bind", "-connect", stack.socket],
            environment: [
                "REQUEST_METHOD": "POST", "SCRIPT_NAME": "/connectors", "CONTENT_LENGTH": "\(2 << 20)",
                "CONTENT_TYPE": "application/x-www-form-urlencoded", "HTTP_ACCEPT": "application/json",
            ]
        ).output
        #expect(text.hasPrefix("Status: 413"))
        #expect(text.contains("Content-Type: application/json"))
    }

    @Test("a handler that fails gives a 500 page whose request id is also in the log line; the worker lives on")
    func internalError() async throws {
        // A deployment whose templates folder lost the connectors page: rendering it throws.
        let folder = try makeTemporaryFolder("tpl")
        defer { try? FileManager.default.removeItem(at: folder) }
        let templates = folder.appendingPathComponent("templates")
        try FileManager.default.copyItem(at: Stack.root.appendingPathComponent("templates"), to: templates)
        try FileManager.default.removeItem(at: templates.appendingPathComponent("connectors.mustache"))
        let stack = try Stack(templates: templates.path)
        defer { stack.stop() }
        try await stack.start()
        let reply = try await stack.get("/connectors")
        #expect(reply.status == 500)
        let id = try #require(reply.header("X-Request-Id"))
        #expect(reply.text.contains(id))
        try await waitUntil("the failure is logged with its request id") {
            stack.log().contains("handler failed") && stack.log().contains("request_id=\(id)")
        }
        #expect(try await stack.get("/healthz").status == 200)
    }

    @Test("50 concurrent requests are all answered")
    func concurrent() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                group.addTask {
                    try await stack.get(index.isMultiple(of: 2) ? "/connectors" : "/connectors/new?service=salesforce").status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 50)
        #expect(statuses.allSatisfy { $0 == 200 })
    }

    @Test("SIGTERM stops the worker cleanly: exit 0, socket removed")
    func gracefulStop() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let worker = try #require(stack.worker)
        worker.terminate()
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: stack.socket))
        #expect(stack.log().contains("stopped"))
    }
}

/// Runs curl (a package `make test` installs) and answers what it printed.
func curl(_ arguments: [String]) throws -> String {
    try runProgram("/usr/bin/curl", arguments).output
}
