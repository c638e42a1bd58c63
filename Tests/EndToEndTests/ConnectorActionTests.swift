import Foundation
import SwitchboardTesting
import Testing

// One connector's page and its actions through real nginx, the real worker and
// `switchboard-sandbox` as Fivetran, checking the stand-in's own state after each.
extension ConnectorTests {
    /// The stand-in's view of a connection (its API, Basic auth), or nil once it is gone.
    func fivetran(_ stack: Stack, _ id: String) async throws -> [String: Any]? {
        let basic = Data("\(stack.environment["FIVETRAN_API_KEY"]!):\(stack.environment["FIVETRAN_API_SECRET"]!)".utf8)
            .base64EncodedString()
        let reply = try await stack.sandboxCall(
            stack.fivetranURL, "GET", "/v1/connections/\(id)", headers: ["Authorization": "Basic \(basic)"])
        guard reply.status == 200 else { return nil }
        return (try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["data"] as? [String: Any]
    }

    func ids(_ stack: Stack, state: String) async throws -> [String] {
        let list = try await stack.get("/connectors?state=\(state)")
        return list.text.components(separatedBy: "<td class=\"col-name\"><a href=\"/connectors/").dropFirst().map {
            String($0.prefix { $0 != "\"" })
        }
    }

    /// Posts a page's form as a browser does: the CSRF cookie and field from the page.
    func post(_ stack: Stack, _ action: String, from page: String, _ fields: [(String, String)] = []) async throws -> Stack.Reply
    {
        let form = try await stack.get(page)
        let token = try #require(cookieValue(form.header("Set-Cookie"), name: "sb_csrf"))
        return try await stack.post(action, form: [("_csrf", token)] + fields, cookie: "sb_csrf=\(token)")
    }

    @Test("open a broken connector, pause, resume, change its frequency, sync one, delete another after typing its schema")
    func operate() async throws {
        let stack = try Stack()
        defer { stack.stop() }
        try await stack.start()

        // A broken connector: what is wrong and the button that fixes it.
        let broken = try #require(try await ids(stack, state: "broken").first)
        let page = "/connectors/\(broken)"
        let shown = try await stack.get(page)
        #expect(shown.status == 200)
        #expect(shown.text.contains("Reconnect: the credentials expired"))
        #expect(shown.text.contains("href=\"\(page)/setup\">Reconnect in the Connect Card</a>"))

        // Pause, resume.
        let paused = try await post(stack, page + "/pause", from: page)
        #expect(paused.status == 303)
        #expect(paused.header("Location") == page + "?notice=paused")
        #expect(try await fivetran(stack, broken)?["paused"] as? Bool == true)
        #expect(try await stack.get(page + "?notice=paused").text.contains("/resume\""))
        #expect(try await post(stack, page + "/sync", from: page).header("Location") == page + "?notice=sync-paused")
        let resumed = try await post(stack, page + "/resume", from: page)
        #expect(resumed.header("Location") == page + "?notice=resumed")
        #expect(try await fivetran(stack, broken)?["paused"] as? Bool == false)

        // The frequency.
        let frequency = try await post(stack, page + "/frequency", from: page, [("sync_frequency", "720")])
        #expect(frequency.status == 303)
        #expect(try await fivetran(stack, broken)?["sync_frequency"] as? Int == 720)
        #expect(try await stack.get(page).text.contains("<option value=\"720\" selected>"))

        // Sync a connected one: Fivetran shows it syncing.
        var unpaused: String?
        for id in try await ids(stack, state: "connected") where try await fivetran(stack, id)?["paused"] as? Bool == false {
            unpaused = id
            break
        }
        let connected = try #require(unpaused)
        let synced = try await post(stack, "/connectors/\(connected)/sync", from: "/connectors/\(connected)")
        #expect(synced.header("Location") == "/connectors/\(connected)?notice=synced")
        let status = try #require(try await fivetran(stack, connected)?["status"] as? [String: Any])
        #expect(status["sync_state"] as? String == "syncing")
        #expect(try await stack.get("/connectors/\(connected)").text.contains("badge-info\">Syncing</span>"))

        // An incomplete one: sync refused without asking Fivetran; delete after typing its schema.
        let incomplete = try #require(try await ids(stack, state: "incomplete").first)
        let before = try await stack.fivetranStats()["POST /v1/connections/{id}/sync"] ?? 0
        let refused = try await post(stack, "/connectors/\(incomplete)/sync", from: "/connectors/\(incomplete)")
        #expect(refused.header("Location") == "/connectors/\(incomplete)?notice=sync-incomplete")
        #expect(try await stack.fivetranStats()["POST /v1/connections/{id}/sync"] ?? 0 == before)
        let schema = try #require(try await fivetran(stack, incomplete)?["schema"] as? String)
        let confirm = "/connectors/\(incomplete)/delete"
        let wrong = try await post(stack, confirm, from: confirm, [("confirm_schema", "nope")])
        #expect(wrong.status == 422)
        #expect(try await fivetran(stack, incomplete) != nil)
        let deleted = try await post(stack, confirm, from: confirm, [("confirm_schema", schema)])
        #expect(deleted.status == 303)
        #expect(try await fivetran(stack, incomplete) == nil)
        let list = try await stack.get(try #require(deleted.header("Location")))
        #expect(list.text.contains("was deleted from Fivetran"))
        #expect(!list.text.contains("href=\"/connectors/\(incomplete)\""))
        let gone = try await stack.get("/connectors/\(incomplete)")
        #expect(gone.status == 404)
        #expect(gone.text.contains("This connector is gone"))

        // The audit: each change once Fivetran answered, newest first, with who (no auth_basic
        // here: anonymous) and the outcome; a refused sync asked nothing, so it is not there.
        let audit = try await stack.get("/audit?object=connector:\(broken)")
        #expect(audit.status == 200)
        // Pause, resume, frequency: three rows (each row titles its action code).
        #expect(audit.text.components(separatedBy: "title=\"connector.changed\"").count - 1 == 3, "\(audit.text.prefix(3000))")
        #expect(audit.text.contains("anonymous"))
        #expect(audit.text.contains("sync_frequency"))
        let syncs = try await stack.get("/audit?object=connector:\(connected)&action=connector.synced")
        #expect(syncs.text.contains("connector.synced"))
        let deletions = try await stack.get("/audit?action=connector.deleted")
        #expect(deletions.text.contains("connector:\(incomplete)"))
        let refusedSync = try await stack.get("/audit?object=connector:\(incomplete)&action=connector.synced")
        #expect(!refusedSync.text.contains("title=\"connector.synced\""))
    }

    @Test("the API through nginx: 401 without a token, the list with an ETag and 304, PATCH and its 422")
    func api() async throws {
        let stack = try Stack(environment: ["SWITCHBOARD_API_TOKENS": "e2e-token"])
        defer { stack.stop() }
        try await stack.start()
        #expect(try await stack.get("/api/connectors").status == 401)
        let auth = ["Authorization": "Bearer e2e-token"]
        let list = try await stack.get("/api/connectors", headers: auth)
        #expect(list.status == 200)
        let etag = try #require(list.header("ETag"))
        #expect(try await stack.get("/api/connectors", headers: auth.merging(["If-None-Match": etag]) { $1 }).status == 304)
        let id = try #require(try await ids(stack, state: "connected").first)
        let json = auth.merging(["Content-Type": "application/json"]) { $1 }
        let bad = try await stack.send("PATCH", "/api/connectors/\(id)", headers: json, body: Data(#"{"sync_frequency":2}"#.utf8))
        #expect(bad.status == 422)
        let good = try await stack.send(
            "PATCH", "/api/connectors/\(id)", headers: json, body: Data(#"{"sync_frequency":30}"#.utf8))
        #expect(good.status == 200)
        #expect(try await fivetran(stack, id)?["sync_frequency"] as? Int == 30)

        // The script's change is in the audit under its token's name, the refused one not at all.
        let audit = try await stack.get("/api/audit?object=connector:\(id)", headers: auth)
        #expect(audit.status == 200)
        let entries = (try JSONSerialization.jsonObject(with: audit.body) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
        #expect(entries.count == 1, "\(entries)")
        #expect(entries.first?["actor"] as? String == "api:env-1")
        #expect(entries.first?["action"] as? String == "connector.changed")
        #expect(entries.first?["outcome"] as? String == "done")
        #expect(try await stack.get("/api/audit").status == 401)
    }
}
