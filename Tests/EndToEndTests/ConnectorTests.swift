import Foundation
import SwitchboardTesting
import Testing

/// Connector management through real nginx, the real worker and `switchboard-sandbox` as
/// Fivetran: the pages, the Connect Card round trip, errors on the page, the sample's JSON
/// routes, caching, and no secret anywhere.
@Suite("Fivetran connectors", .serialized)
struct ConnectorTests {
    /// Opens the new-connector form for `service` and answers the CSRF token it carries.
    func openForm(_ stack: Stack, service: String) async throws -> String {
        let form = try await stack.get("/connectors/new?service=\(service)")
        #expect(form.status == 200)
        return try #require(cookieValue(form.header("Set-Cookie"), name: "sb_csrf"))
    }

    func create(_ stack: Stack, token: String, service: String, name: String, schema: String) async throws -> Stack.Reply {
        try await stack.post(
            "/connectors", form: [("_csrf", token), ("service", service), ("display_name", name), ("schema", schema)],
            cookie: "sb_csrf=\(token)")
    }

    @Test("a new user's flow: catalog, form, Connect Card, Save & Test, back on the list as set up")
    func createAndConnect() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()

        let catalog = try await stack.get("/services?q=hubspot")
        #expect(catalog.status == 200)
        #expect(catalog.text.contains("HubSpot"))
        #expect(catalog.text.contains("/connectors/new?service=hubspot"))
        #expect(catalog.text.contains("sandbox"))  // the footer says which APIs these are

        let token = try await openForm(stack, service: "hubspot")
        let created = try await create(stack, token: token, service: "hubspot", name: "Marketing <EU>", schema: "marketing_eu")
        #expect(created.status == 303)
        let card = try #require(created.header("Location").flatMap(URL.init(string:)))
        #expect(card.host == "127.0.0.1")
        #expect(card.absoluteString.hasPrefix(stack.fivetranURL + "/connect-card/setup?"))

        // The stand-in Connect Card: its form posts back, then it sends the browser to our return URL.
        let cardPage = try await stack.sandboxCall(
            stack.fivetranURL, "GET", String(card.absoluteString.dropFirst(stack.fivetranURL.count)))
        #expect(cardPage.text.contains("Save &amp; Test"))
        let auth = try #require(hiddenField(cardPage.text, name: "auth"))
        let redirect = try #require(hiddenField(cardPage.text, name: "redirect_uri"))
        #expect(redirect.hasPrefix(stack.baseURL + "/connectors/"))
        #expect(redirect.hasSuffix("/return"))
        let saved = try await stack.sandboxCall(
            stack.fivetranURL, "POST", "/connect-card/setup",
            headers: ["Content-Type": "application/x-www-form-urlencoded"],
            formBody: "auth=\(auth)&redirect_uri=\(redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        let back = try #require(saved.header("Location"))
        #expect(back.hasPrefix(redirect))

        let returned = try await stack.get(String(back.dropFirst(stack.baseURL.count)))
        #expect(returned.status == 303)
        let listURL = try #require(returned.header("Location"))
        let list = try await stack.get(listURL)
        #expect(list.status == 200)
        #expect(list.text.contains("“Marketing &lt;EU&gt;” is set up"))
        #expect(list.text.contains("<strong>Marketing &lt;EU&gt;</strong>"))
        #expect(list.text.contains("<code>marketing_eu</code>"))

        // The display name is kept in SQLite: a restarted worker still shows it.
        if let worker = stack.worker { terminateAndWait(worker) }
        try stack.startWorker()
        #expect(try await stack.get("/connectors").text.contains("<strong>Marketing &lt;EU&gt;</strong>"))

        // Re-opening setup asks Fivetran for a fresh card each time.
        let id = String(redirect.dropFirst((stack.baseURL + "/connectors/").count).dropLast("/return".count))
        let first = try await stack.get("/connectors/\(id)/setup")
        let second = try await stack.get("/connectors/\(id)/setup")
        #expect(first.status == 303)
        #expect(first.header("Location") != second.header("Location"))
    }

    @Test("Fivetran's errors come back on the form, values kept, in words a person can act on")
    func errorsOnTheForm() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let token = try await openForm(stack, service: "stripe")

        // 409: someone else took the schema after our list was cached.
        _ = try await stack.get("/connectors")
        let basic =
            "Basic "
            + Data("\(stack.environment["FIVETRAN_API_KEY"]!):\(stack.environment["FIVETRAN_API_SECRET"]!)".utf8)
            .base64EncodedString()
        let direct = try await stack.sandboxCall(
            stack.fivetranURL, "POST", "/v1/connections",
            json: #"{"service":"stripe","group_id":"\#(stack.environment["FIVETRAN_GROUP_ID"]!)","config":{"schema":"billing"}}"#,
            headers: ["Authorization": basic])
        #expect(direct.status == 201)
        let conflict = try await create(stack, token: token, service: "stripe", name: "Billing", schema: "billing")
        #expect(conflict.status == 422)
        #expect(conflict.text.contains("Fivetran already has a connector with the schema “billing”"))
        #expect(conflict.text.contains(#"value="Billing""#))
        #expect(conflict.text.contains(#"aria-invalid="true""#))

        // 400 from Fivetran: its message on the page.
        try await stack.sandboxCall(stack.fivetranURL, "POST", "/_sandbox/faults", json: #"{"status":400,"count":1}"#)
        let rejected = try await create(stack, token: token, service: "stripe", name: "Billing 2", schema: "billing_two")
        #expect(rejected.status == 422)
        #expect(rejected.text.contains("Fivetran said: Something went wrong (injected fault)."))
        #expect(rejected.text.contains(#"value="billing_two""#))

        // 429 beyond the page's patience: 503 with Retry-After, the form kept.
        try await stack.sandboxCall(
            stack.fivetranURL, "POST", "/_sandbox/faults", json: #"{"status":429,"count":1,"retry_after":3600}"#)
        let busy = try await create(stack, token: token, service: "stripe", name: "Billing 3", schema: "billing_three")
        #expect(busy.status == 503)
        #expect(busy.header("Retry-After") == "3600")
        #expect(busy.text.contains("rate limit"))
        #expect(busy.text.contains(#"value="billing_three""#))

        // Our own validation, before any call: bad schema and an existing one.
        let bad = try await create(stack, token: token, service: "stripe", name: "", schema: "Bad-Name")
        #expect(bad.status == 422)
        #expect(bad.text.contains("Give the connector a name people will recognise."))
        #expect(bad.text.contains("The schema name must start with a lower-case letter."))
    }

    @Test("wrong credentials: a 502 page that names the setting to fix, and no secret in it")
    func badCredentials() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        try await stack.startSandbox([])
        stack.environment["FIVETRAN_API_SECRET"] = "wrong-secret-value"
        try await stack.start()  // the sandbox is up already: start() adds the worker and nginx
        let page = try await stack.get("/connectors")
        #expect(page.status == 502)
        #expect(page.text.contains("FIVETRAN_API_KEY and FIVETRAN_API_SECRET"))
        #expect(!page.text.contains("wrong-secret-value"))
        #expect(!stack.allLogs().contains("wrong-secret-value"))
    }

    @Test("1,200 connections: every one listed, sorted and filtered, with readable badges")
    func manyConnections() async throws {
        let stack = try Stack(sandbox: ["--connections", "1200"])
        defer { stack.stop() }
        try await stack.start()
        let page = try await stack.get("/connectors")
        #expect(page.status == 200)
        #expect(page.text.contains("1200 in this group"))
        #expect(page.text.components(separatedBy: "<tr>").count - 1 == 1201)  // header + 1200 rows
        #expect(page.text.contains("badge-ok\">Connected</span>"))
        let broken = try await stack.get("/connectors?state=broken&sort=name&dir=asc")
        #expect(broken.text.contains("badge-bad\">Broken</span>"))
        #expect(!broken.text.contains("badge-ok\">Connected</span>"))
    }

    @Test("in steady state a page view costs no upstream call; a cold burst costs one")
    func caching() async throws {
        let stack = try Stack(sandbox: ["--latency-ms", "300"])
        defer { stack.stop() }
        try await stack.start()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { try await stack.get("/connectors").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 })
        let cold = try await stack.fivetranStats()
        #expect(cold["GET /v1/groups/{id}/connections"] == 1)
        #expect(cold["GET /v1/metadata/connector-types"] == 1)
        for path in ["/connectors", "/services", "/connectors?sort=name", "/services?q=sales", "/_/connectors", "/_/services"] {
            #expect(try await stack.get(path).status == 200)
        }
        let warm = try await stack.fivetranStats()
        #expect(warm["GET /v1/groups/{id}/connections"] == 1)
        #expect(warm["GET /v1/metadata/connector-types"] == 1)
    }

    @Test("the sample's JSON routes keep their shapes for its React client")
    func sampleRoutes() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let services = try JSONSerialization.jsonObject(with: try await stack.get("/_/services").body) as? [[String: Any]]
        #expect((services?.count ?? 0) > 700)
        #expect(services?.first?["id"] is String)
        #expect(services?.first?["icon_url"] is String)

        let created = try await stack.send(
            "POST", "/_/connectors", headers: ["Content-Type": "application/json"],
            body: Data(#"{"service":"salesforce","name":"Sales Team"}"#.utf8))
        #expect(created.status == 200)
        let connector = try JSONSerialization.jsonObject(with: created.body) as? [String: Any]
        let id = try #require(connector?["id"] as? String)
        #expect(connector?["display_name"] as? String == "Sales Team")
        #expect(connector?["schema"] as? String == "sales_team")

        let list = try JSONSerialization.jsonObject(with: try await stack.get("/_/connectors").body) as? [[String: Any]]
        #expect(list?.first { $0["id"] as? String == id }?["display_name"] as? String == "Sales Team")
        #expect(list?.allSatisfy { $0["display_name"] is String } == true)

        let form = try JSONSerialization.jsonObject(with: try await stack.get("/_/connectors/\(id)/form").body) as? [String: Any]
        #expect(form?["connectorId"] as? String == id)
        #expect((form?["url"] as? String)?.hasPrefix(stack.fivetranURL + "/connect-card/setup?") == true)

        let bad = try await stack.send(
            "POST", "/_/connectors", headers: ["Content-Type": "application/json"], body: Data("{".utf8))
        #expect(bad.status == 400)
        #expect(bad.header("Content-Type") == "application/json; charset=utf-8")
    }

    @Test("no secret appears in any page, JSON or log line")
    func noSecrets() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let secret = try #require(stack.environment["FIVETRAN_API_SECRET"])
        let basic = Data("\(stack.environment["FIVETRAN_API_KEY"]!):\(secret)".utf8).base64EncodedString()
        var seen = ""
        for path in [
            "/connectors", "/services", "/connectors/new?service=salesforce", "/_/services", "/_/connectors", "/healthz", "/nope",
        ] {
            seen += try await stack.get(path).text
        }
        let token = try await openForm(stack, service: "salesforce")
        seen += try await create(stack, token: token, service: "salesforce", name: "S", schema: "s_one").text
        seen += stack.allLogs()
        #expect(!seen.isEmpty)
        #expect(!seen.contains(secret))
        #expect(!seen.contains(basic))
    }

    @Test("SIGTERM during a slow request still completes it, then the worker exits 0")
    func drainOnStop() async throws {
        let stack = try Stack(sandbox: ["--latency-ms", "1500"])
        defer { stack.stop() }
        try await stack.start()
        // A route that asks Fivetran on every request (the lists are fetched by the refresher,
        // so a call to those would not show that this request is in the worker's hands).
        let list = try JSONSerialization.jsonObject(with: try await stack.get("/_/connectors").body) as? [[String: Any]]
        let id = try #require(list?.first?["id"] as? String)
        let slow = Task { try await stack.get("/_/connectors/\(id)") }
        try await waitUntil("the slow request reached Fivetran") {
            ((try? await stack.fivetranStats()) ?? [:])["GET /v1/connections/{id}"] == 1
        }
        let worker = try #require(stack.worker)
        worker.terminate()
        let reply = try await slow.value
        #expect(reply.status == 200)
        #expect(reply.text.contains(id))
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 0)
    }

    @Test("FIVETRAN_PATHS=legacy reads the same group through the /v1/connectors… paths")
    func legacyPaths() async throws {
        let stack = try Stack(environment: ["FIVETRAN_PATHS": "legacy"])
        defer { stack.stop() }
        try await stack.start()
        let page = try await stack.get("/connectors")
        #expect(page.status == 200)
        #expect(page.text.contains("40 in this group"))
        let stats = try await stack.fivetranStats()
        #expect(stats["GET /v1/groups/{id}/connectors"] == 1)
        #expect(stats["GET /v1/metadata/connectors"] == 1)
        #expect(stats["GET /v1/groups/{id}/connections"] == nil)
    }

    @Test("a Connect Card off FIVETRAN_CARD_HOST is never followed, whatever the request says")
    func cardHostEnforced() async throws {
        let stack = try Stack(sandbox: nil)
        defer { stack.stop() }
        try await stack.startSandbox([])
        stack.environment["FIVETRAN_CARD_HOST"] = "fivetran.com"  // the sandbox's cards are on 127.0.0.1
        try await stack.start()
        let token = try await openForm(stack, service: "stripe")
        let reply = try await create(stack, token: token, service: "stripe", name: "Billing", schema: "billing_x")
        #expect(reply.status == 502)
        #expect(reply.header("Location") == nil)
        #expect(reply.text.contains("not on fivetran.com"))
    }

    @Test("the Connect Card's redirect_uri comes from SWITCHBOARD_PUBLIC_URL, not the request's Host")
    func redirectFromPublicURL() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()
        let token = try await openForm(stack, service: "stripe")
        let body = "_csrf=\(token)&service=stripe&display_name=B&schema=billing_y"
        let reply = try await stack.send(
            "POST", "/connectors",
            headers: [
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": "sb_csrf=\(token)", "Host": "evil.example",
                "X-Forwarded-Host": "evil.example",
            ],
            body: Data(body.utf8))
        #expect(reply.status == 303)
        let location = try #require(reply.header("Location"))
        let redirect = URLComponents(string: location)?.queryItems?.first { $0.name == "redirect_uri" }?.value
        #expect(redirect?.hasPrefix(stack.baseURL + "/connectors/") == true)
        #expect(!location.contains("evil.example"))
    }
}
