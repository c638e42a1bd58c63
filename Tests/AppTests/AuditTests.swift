import Foundation
import Model
import Store
import Testing

@testable import App

extension AppHarness {
    /// What a browser behind `auth_basic` does: opens `page`, takes the CSRF cookie and the
    /// form's token, posts `fields`, nginx naming `user` on both requests.
    func submit(_ fields: [(String, String)], to action: String, from page: String, as user: String) async throws -> Answer {
        let form = await get(page, user: user)
        let cookie = try #require(form.header("Set-Cookie")?.split(separator: ";").first.map(String.init))
        let token = try #require(form.hiddenField(named: "_csrf"))
        let body = ([("_csrf", token)] + fields).map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
        return await send(
            "POST", action, headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie],
            body: Array(body.utf8), user: user)
    }

    private func formEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// Every audit entry, newest first.
    func auditEntries() throws -> [AuditEntry] {
        try services.store.auditEntries(AuditFilter(limit: 1000))
    }

    /// The one entry with `action`; records an issue when there is not exactly one.
    func onlyEntry(_ action: AuditAction, sourceLocation: SourceLocation = #_sourceLocation) throws -> AuditEntry? {
        let found = try auditEntries().filter { $0.action == action }
        #expect(found.count == 1, "\(action.rawValue): \(found)", sourceLocation: sourceLocation)
        return found.first
    }
}

@Suite("The audit: /audit, GET /api/audit, and the entries the pages and the API leave, in process")
struct AuditTests {
    /// A few entries of every kind of object, oldest first.
    static func seed(_ store: any SwitchboardStore, now: Date = Date()) throws {
        let entries: [NewAuditEntry] = [
            NewAuditEntry(actor: "ann", action: .captureCreated, object: "capture:3", detail: "Acme (tags; manual)"),
            NewAuditEntry(actor: "bob", action: .jobStarted, object: "job:9", detail: "capture 3 (Acme)"),
            NewAuditEntry(
                actor: "ann", action: .connectorChanged, object: "connector:decent_dropsy", detail: "paused: true",
                error: "Fivetran answered 409: the connector is being set up"),
            NewAuditEntry(actor: "api:ci", action: .tokenRevoked, object: "token:2", detail: "ci"),
        ]
        for (index, entry) in entries.enumerated() {
            try store.appendAudit(entry, at: now.addingTimeInterval(Double(index - entries.count)))
        }
    }

    // MARK: The page

    @Test("/audit lists entries newest first: when, who, the action in words, the object linked, the detail, the outcome")
    func page() async throws {
        try await withApp { app in
            try Self.seed(app.services.store)
            let page = await app.get("/audit")
            #expect(page.status == 200)
            #expect(page.text.contains("<a href=\"/audit\" aria-current=\"page\">Audit</a>"))
            let order = ["token:2", "connector:decent_dropsy", "job:9", "capture:3"].compactMap {
                page.text.range(of: ">\($0)</a>")?.lowerBound
            }
            #expect(order.count == 4 && order == order.sorted())
            #expect(page.text.contains("<a href=\"/captures/3\">capture:3</a>"))
            #expect(page.text.contains("<a href=\"/jobs/9\">job:9</a>"))
            #expect(page.text.contains("<a href=\"/connectors/decent_dropsy\">connector:decent_dropsy</a>"))
            #expect(page.text.contains("<a href=\"/settings\">token:2</a>"))
            #expect(page.text.contains("href=\"/audit?object=capture%3A3\""))
            #expect(page.text.contains("href=\"/audit?actor=api%3Aci\""))
            #expect(page.text.contains("capture created") && page.text.contains("API token revoked"))
            #expect(page.text.contains("Acme (tags; manual)"))
            #expect(page.text.contains("Fivetran answered 409: the connector is being set up"))
            #expect(page.count("<span class=\"badge badge-ok\">done</span>") == 3)
            #expect(page.count("<span class=\"badge badge-bad\">failed</span>") == 1)
            // The navigation links it from every page.
            #expect(await app.get("/captures").text.contains("<a href=\"/audit\">Audit</a>"))
        }
    }

    @Test("/audit filters by object, by person and by action, and says when nothing matches")
    func filters() async throws {
        try await withApp { app in
            try Self.seed(app.services.store)
            let object = await app.get("/audit?object=capture:3")
            #expect(object.status == 200)
            #expect(object.count("<td><time") == 1)
            #expect(object.text.contains(">capture:3</a>") && !object.text.contains(">job:9</a>"))
            #expect(object.text.contains("value=\"capture:3\""))
            let person = await app.get("/audit?actor=ann")
            #expect(person.text.contains(">capture:3</a>") && person.text.contains(">connector:decent_dropsy</a>"))
            #expect(!person.text.contains(">job:9</a>") && !person.text.contains(">token:2</a>"))
            let action = await app.get("/audit?action=job.started")
            #expect(action.text.contains(">job:9</a>") && !action.text.contains(">capture:3</a>"))
            #expect(action.text.contains("<option value=\"job.started\" selected>job started</option>"))
            let both = await app.get("/audit?actor=ann&action=job.started")
            #expect(both.status == 200 && both.text.contains("No entry matches"))
            let empty = await app.get("/audit?object=&actor=&action=")
            #expect(empty.status == 200 && empty.text.contains(">job:9</a>"))
        }
    }

    @Test("/audit shows 50 a page with links to the newer and older pages, filters kept")
    func paging() async throws {
        try await withApp { app in
            let now = Date()
            for index in 0..<120 {
                try app.services.store.appendAudit(
                    NewAuditEntry(actor: index % 2 == 0 ? "ann" : "bob", action: .jobStarted, object: "job:\(index)"),
                    at: now.addingTimeInterval(Double(index - 200)))
            }
            let first = await app.get("/audit")
            #expect(first.count(">job:") == 50)
            #expect(
                first.text.contains(">job:119</a>") && first.text.contains(">job:70</a>") && !first.text.contains(">job:69</a>"))
            #expect(first.text.contains("href=\"/audit?page=2\" rel=\"next\""))
            #expect(!first.text.contains("rel=\"prev\""))
            let third = await app.get("/audit?page=3")
            #expect(third.count(">job:") == 20)
            #expect(third.text.contains("href=\"/audit?page=2\" rel=\"prev\""))
            #expect(!third.text.contains("rel=\"next\""))
            let ann = await app.get("/audit?actor=ann")
            #expect(ann.count(">job:") == 50)
            #expect(ann.text.contains("href=\"/audit?actor=ann&amp;page=2\" rel=\"next\""))
            let annSecond = await app.get("/audit?actor=ann&page=2")
            #expect(annSecond.count(">job:") == 10)
            #expect(annSecond.text.contains("href=\"/audit?actor=ann\" rel=\"prev\""))
        }
    }

    @Test("what people and scripts wrote is escaped: an actor <script> shows as text")
    func escaping() async throws {
        try await withApp { app in
            try app.services.store.appendAudit(
                NewAuditEntry(
                    actor: "<script>alert(1)</script>", action: .captureChanged, object: "capture:1",
                    detail: "name (<b>x</b> → \"y\")", error: "<img src=x onerror=alert(2)>"))
            let page = await app.get("/audit")
            #expect(page.status == 200)
            #expect(
                !page.text.contains("<script>alert(1)") && !page.text.contains("<b>x</b>") && !page.text.contains("<img src=x"))
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(page.text.contains("&lt;b&gt;x&lt;/b&gt;"))
            #expect(page.text.contains("&lt;img src=x onerror=alert(2)&gt;"))
            #expect(page.text.contains("href=\"/audit?actor=%3Cscript%3Ealert%281%29%3C%2Fscript%3E\""))
            let filtered = await app.get("/audit?actor=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            #expect(filtered.status == 200 && filtered.text.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""))
            #expect(!filtered.text.contains("No entry matches"))
        }
    }

    @Test("a filter value that cannot be one is a 400 page that names it")
    func badFilters() async throws {
        try await withApp { app in
            for (target, named) in [
                ("/audit?action=capture.exploded", "action must be one of"),
                ("/audit?object=capture", "object must name one thing"),
                ("/audit?object=capture:abc", "object must name one thing"),
                ("/audit?object=planet:3", "object must name one thing"),
                ("/audit?page=0", "page takes a whole number"),
                ("/audit?page=two", "page takes a whole number"),
                ("/audit?actor=" + String(repeating: "a", count: 201), "actor takes a name"),
            ] {
                let answer = await app.get(target)
                #expect(answer.status == 400, "\(target)")
                #expect(answer.text.contains(named), "\(target): \(answer.text.prefix(300))")
                #expect(answer.header("Content-Type")?.hasPrefix("text/html") == true)
            }
        }
    }

    // MARK: The API

    @Test("GET /api/audit: entries with at, actor, action, object, detail, outcome; filters; next; ETag and 304")
    func api() async throws {
        try await withApp { app in
            try Self.seed(app.services.store)
            let answer = await app.api("/api/audit")
            #expect(answer.status == 200)
            let body = try answer.json()
            #expect(body["next"] is NSNull)
            let entries = try #require(body["entries"] as? [[String: Any]])
            #expect(entries.count == 4)
            #expect(Set(entries[0].keys) == ["at", "actor", "action", "object", "detail", "outcome"])
            #expect(entries[0]["actor"] as? String == "api:ci" && entries[0]["action"] as? String == "token.revoked")
            #expect(entries[0]["object"] as? String == "token:2" && entries[0]["detail"] as? String == "ci")
            #expect(entries[0]["outcome"] as? String == "done")
            #expect((entries[0]["at"] as? String)?.hasSuffix("Z") == true)
            let failed = try #require(entries[1]["outcome"] as? [String: String])
            #expect(failed == ["error": "Fivetran answered 409: the connector is being set up"])

            let byObject = try await app.api("/api/audit?object=connector:decent_dropsy").json()
            #expect((byObject["entries"] as? [[String: Any]])?.map { $0["object"] as? String } == ["connector:decent_dropsy"])
            let byActor = try await app.api("/api/audit?actor=ann").json()
            #expect((byActor["entries"] as? [[String: Any]])?.count == 2)
            let byAction = try await app.api("/api/audit?action=job.started").json()
            #expect((byAction["entries"] as? [[String: Any]])?.map { $0["object"] as? String } == ["job:9"])

            let etag = try #require(answer.header("ETag"))
            let again = await app.send(
                "GET", "/api/audit", headers: ["Authorization": "Bearer \(AppHarness.apiToken)", "If-None-Match": etag])
            #expect(again.status == 304 && again.body.isEmpty)
            try app.services.store.appendAudit(NewAuditEntry(actor: "cy", action: .jobCancelled, object: "job:9"))
            let changed = await app.send(
                "GET", "/api/audit", headers: ["Authorization": "Bearer \(AppHarness.apiToken)", "If-None-Match": etag])
            #expect(changed.status == 200 && changed.header("ETag") != etag)
        }
    }

    @Test("GET /api/audit pages by 50, next keeping the filters and null on the last page")
    func apiPaging() async throws {
        try await withApp { app in
            let now = Date()
            for index in 0..<60 {
                try app.services.store.appendAudit(
                    NewAuditEntry(actor: "ann", action: .jobStarted, object: "job:\(index)"),
                    at: now.addingTimeInterval(Double(index - 100)))
            }
            let first = try await app.api("/api/audit?actor=ann").json()
            #expect((first["entries"] as? [[String: Any]])?.count == 50)
            let next = try #require(first["next"] as? String)
            #expect(next == "/api/audit?actor=ann&page=2")
            let second = try await app.api(next).json()
            #expect((second["entries"] as? [[String: Any]])?.map { $0["object"] as? String }.last == "job:0")
            #expect((second["entries"] as? [[String: Any]])?.count == 10)
            #expect(second["next"] is NSNull)
        }
    }

    @Test("GET /api/audit without a valid token is 401; a bad action, object or page is 400 in the API's error shape")
    func apiRefusals() async throws {
        try await withApp { app in
            let none = await app.send("GET", "/api/audit")
            #expect(none.status == 401 && none.header("WWW-Authenticate") != nil)
            #expect(await app.api("/api/audit", token: "wrong").status == 401)
            for (target, named) in [
                ("/api/audit?action=nope", "action must be one of"), ("/api/audit?page=0", "page takes a whole number"),
                ("/api/audit?page=1000001", "page takes a whole number"), ("/api/audit?object=job:x", "object must name"),
            ] {
                let answer = await app.api(target)
                #expect(answer.status == 400, "\(target)")
                let error = try #require(try answer.json()["error"] as? [String: Any])
                #expect(error["status"] as? String == "400")
                #expect((error["message"] as? String)?.contains(named) == true, "\(target)")
                #expect(error["request_id"] is String)
            }
        }
    }

    // MARK: The entries the changes leave

    @Test(
        "through the pages: creating, editing, pausing, deleting a capture, starting and cancelling a job each leave one entry by the visitor"
    )
    func pagesLeaveEntries() async throws {
        try await withApp { app in
            let created = try await app.submit(
                [("name", "Acme"), ("token", "front-token-acme-1234"), ("resources", "tags"), ("schedule", "manual")],
                to: "/captures", from: "/captures/new", as: "ann")
            #expect(created.status == 303)
            let capture = try #require(try app.services.store.captures().first)
            let made = try #require(try app.onlyEntry(.captureCreated))
            #expect(made.actor == "ann" && made.object == "capture:\(capture.id)")
            #expect(made.detail == "Acme (tags; manual)")
            // Saving queues the first job.
            let started = try #require(try app.onlyEntry(.jobStarted))
            let job = try #require(try app.services.store.jobs().first)
            #expect(started.actor == "ann" && started.object == "job:\(job.id)")

            let cancelled = try await app.submit([], to: "/jobs/\(job.id)/cancel", from: "/jobs/\(job.id)", as: "bob")
            #expect(cancelled.status == 303)
            let cancel = try #require(try app.onlyEntry(.jobCancelled))
            #expect(cancel.actor == "bob" && cancel.object == "job:\(job.id)")

            let edited = try await app.submit(
                [("name", "Acme support"), ("token", ""), ("resources", "tags"), ("schedule", "15")],
                to: "/captures/\(capture.id)/edit", from: "/captures/\(capture.id)/edit", as: "cy")
            #expect(edited.status == 303)
            let change = try #require(try app.onlyEntry(.captureChanged))
            #expect(change.actor == "cy")
            #expect(change.detail == "name (Acme → Acme support), schedule (every 15 minutes)")

            // A refused edit (the name of another capture) changes nothing and leaves nothing.
            _ = try await app.submit(
                [("name", "Globex"), ("token", "front-token-globex-1234"), ("resources", "tags"), ("schedule", "manual")],
                to: "/captures", from: "/captures/new", as: "ann")
            let before = try app.auditEntries().count
            let refused = try await app.submit(
                [("name", "Globex"), ("token", ""), ("resources", "tags"), ("schedule", "15")],
                to: "/captures/\(capture.id)/edit", from: "/captures/\(capture.id)/edit", as: "cy")
            #expect(refused.status == 422)
            #expect(try app.auditEntries().count == before)

            let paused = try await app.submit(
                [], to: "/captures/\(capture.id)/pause", from: "/captures/\(capture.id)", as: "dee")
            #expect(paused.status == 303)
            let pause = try #require(try app.auditEntries().first)
            #expect(pause.action == .captureChanged && pause.actor == "dee")
            #expect(pause.detail == "schedule (every 15 minutes, paused)")

            // The capture's page shows its own entries, newest first, and links to all of them.
            let page = await app.get("/captures/\(capture.id)")
            #expect(page.text.contains("href=\"/audit?object=capture%3A\(capture.id)\""))
            #expect(page.text.contains("schedule (every 15 minutes, paused)"))
            #expect(page.text.contains("name (Acme → Acme support)"))
            #expect(!page.text.contains(">job:\(job.id)</a>"))

            let deleted = try await app.submit(
                [("confirm_name", "Acme support"), ("collections", "keep")], to: "/captures/\(capture.id)/delete",
                from: "/captures/\(capture.id)/delete", as: "eve")
            #expect(deleted.status == 303)
            let gone = try #require(try app.onlyEntry(.captureDeleted))
            #expect(gone.actor == "eve" && gone.object == "capture:\(capture.id)")
            #expect(gone.detail == "Acme support (collections kept)")
            // The deleted capture's history stays.
            #expect(try app.services.store.auditEntries(AuditFilter(object: "capture:\(capture.id)")).count == 4)
            #expect(!(try app.auditEntries().contains { ($0.detail ?? "").contains("front-token") }))
        }
    }

    @Test("through the settings page: creating and revoking an API token each leave one entry, with its name and never its value")
    func tokensLeaveEntries() async throws {
        try await withApp { app in
            let made = try await app.submit([("name", "nightly export")], to: "/settings/tokens", from: "/settings", as: "ann")
            #expect(made.status == 200)
            let token = try #require(try app.services.store.apiTokens().first)
            let created = try #require(try app.onlyEntry(.tokenCreated))
            #expect(created.actor == "ann" && created.object == "token:\(token.id)" && created.detail == "nightly export")
            let secret = try #require(
                made.text.range(of: "sb_[A-Za-z0-9_-]+", options: .regularExpression).map { String(made.text[$0]) })
            let revoked = try await app.submit([], to: "/settings/tokens/\(token.id)/revoke", from: "/settings", as: "bob")
            #expect(revoked.status == 303)
            let revoke = try #require(try app.onlyEntry(.tokenRevoked))
            #expect(revoke.actor == "bob" && revoke.object == "token:\(token.id)")
            let page = await app.get("/audit")
            #expect(page.text.contains("nightly export") && !page.text.contains(secret))
        }
    }

    @Test(
        "through the API: creating, changing, starting a job of and deleting a capture each leave one entry by api:<token name>")
    func apiLeavesEntries() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme")["id"] as? Int)
            let made = try #require(try app.onlyEntry(.captureCreated))
            #expect(made.actor == "api:env-1" && made.object == "capture:\(id)")

            #expect(await app.api("PATCH", "/api/captures/\(id)", json: #"{"paused": true}"#).status == 200)
            let change = try #require(try app.onlyEntry(.captureChanged))
            #expect(change.actor == "api:env-1" && change.detail == "schedule (every 5 minutes, paused)")
            // A change to nothing new leaves nothing.
            #expect(await app.api("PATCH", "/api/captures/\(id)", json: #"{"paused": true}"#).status == 200)
            _ = try app.onlyEntry(.captureChanged)

            #expect(await app.api("/api/captures/\(id)/jobs", method: "POST").status == 201)
            let started = try #require(try app.onlyEntry(.jobStarted))
            #expect(started.actor == "api:env-1")
            // Already running: 409, and no second entry.
            #expect(await app.api("/api/captures/\(id)/jobs", method: "POST").status == 409)
            _ = try app.onlyEntry(.jobStarted)

            #expect(await app.api("/api/captures/\(id)?collections=delete", method: "DELETE").status == 204)
            let gone = try #require(try app.onlyEntry(.captureDeleted))
            #expect(gone.actor == "api:env-1" && gone.detail == "Acme (collections and checkpoints deleted)")

            // Behind nginx's auth, the API names the person nginx authenticated.
            let other = await app.send(
                "POST", "/api/captures",
                headers: ["Authorization": "Bearer \(AppHarness.apiToken)", "Content-Type": "application/json"],
                body: Array(#"{"name": "Globex", "access_token": "front-token-globex-abcd"}"#.utf8), user: "ann")
            #expect(other.status == 201)
            #expect(try app.auditEntries().first?.actor == "ann")
        }
    }

    // MARK: Retention

    @Test("retention removes entries older than SWITCHBOARD_AUDIT_DAYS and keeps the rest")
    func retention() async throws {
        try await withApp(environment: ["SWITCHBOARD_AUDIT_DAYS": "30"]) { app in
            #expect(app.services.configuration.auditDays == 30)
            let now = Date()
            for days in [31.0, 29.0, 1.0] {
                try app.services.store.appendAudit(
                    NewAuditEntry(actor: "ann", action: .jobStarted, object: "job:\(Int(days))"), at: now - days * 86_400)
            }
            #expect(app.services.auditRetention.prune(now: now) == 1)
            #expect(try app.auditEntries().map(\.object) == ["job:1", "job:29"])
        }
    }

    @Test("SWITCHBOARD_AUDIT_DAYS is 365 by default and read with bounds")
    func retentionSetting() {
        #expect(Configuration(environment: [:]).auditDays == 365)
        #expect(Configuration(environment: ["SWITCHBOARD_AUDIT_DAYS": "0"]).auditDays == 1)
        #expect(Configuration(environment: ["SWITCHBOARD_AUDIT_DAYS": "999999"]).auditDays == 36_500)
        #expect(Configuration(environment: ["SWITCHBOARD_AUDIT_DAYS": "soon"]).auditDays == 365)
    }
}
