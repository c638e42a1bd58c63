import Fivetran
import Foundation
import Model
import Sandbox
import Store
import SwitchboardTesting
import Testing

@testable import App

/// The connectors the stand-in seeded, by what a test needs of them.
struct Seeded {
    let broken: String
    let connected: String
    let incomplete: String
    let paused: String

    init(_ app: AppHarness) async throws {
        let rows = try await app.services.directory.connections.current().value.map(\.connection)
        broken = try #require(rows.first { $0.status.setupState == "broken" }?.id)
        connected = try #require(rows.first { $0.status.setupState == "connected" && !$0.paused }?.id)
        incomplete = try #require(rows.first { $0.status.setupState == "incomplete" }?.id)
        paused = try #require(rows.first { $0.status.setupState == "connected" && $0.paused }?.id)
    }
}

/// Whether the store's audit is in (the SQLite audit lands from the audit branch; until then
/// `appendAudit` refuses). Tests of the entries themselves run only once it works.
enum AuditProbe {
    static let works: Bool = {
        guard let folder = try? makeTemporaryFolder("audit-probe") else { return false }
        defer { try? FileManager.default.removeItem(at: folder) }
        guard let store = try? SQLiteStore(path: folder.appendingPathComponent("probe.sqlite").path) else { return false }
        return (try? store.appendAudit(NewAuditEntry(actor: "probe", action: .connectorSynced, object: "connector:probe")))
            != nil
    }()
}

@Suite("One connector's page and its actions, in process")
struct ConnectorDetailTests {
    func page(_ id: String) -> String { "/connectors/\(id)" }

    @Test("a broken connector's page says what Fivetran says is wrong and offers the Connect Card that fixes it")
    func broken() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            let page = await app.get(page(seeded.broken))
            #expect(page.status == 200)
            #expect(page.text.contains("Reconnect: the credentials expired"))
            #expect(page.text.contains("Fivetran task <code>reconnect</code>"))
            #expect(page.text.contains("href=\"/connectors/\(seeded.broken)/setup\">Reconnect in the Connect Card</a>"))
            #expect(page.text.contains("badge-bad\">Broken</span>"))
            #expect(page.text.contains("Last failure"))
            #expect(page.text.contains("/audit?object=connector%3A\(seeded.broken)"))
            // Every frequency the spec allows is offered.
            #expect(page.count("<option value=") == 11)
        }
    }

    @Test("the list links every row to its page, and a page view costs no Fivetran call while the list is fresh")
    func fromTheKeptList() async throws {
        try await withApp { app in
            let list = await app.get("/connectors")
            #expect(list.count("<td class=\"col-name\"><a href=\"/connectors/") == 40)
            let seeded = try await Seeded(app)
            let before = app.fivetran.stats()
            for _ in 0..<3 { #expect(await app.get(page(seeded.connected)).status == 200) }
            #expect(app.fivetran.stats() == before)
        }
    }

    @Test("a connector Fivetran no longer has answers 404, says so and links back")
    func gone() async throws {
        try await withApp { app in
            let page = await app.get("/connectors/no_such_connector")
            #expect(page.status == 404)
            #expect(page.text.contains("This connector is gone"))
            #expect(page.text.contains("href=\"/connectors\""))
        }
    }

    @Test("pause and resume: Fivetran receives the PATCH, the page and the list show the new state at once")
    func pauseResume() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            let paused = try await app.submit([], to: page(seeded.connected) + "/pause", from: page(seeded.connected))
            #expect(paused.status == 303)
            #expect(paused.header("Location") == page(seeded.connected) + "?notice=paused")
            #expect(app.fivetran.received().last?.method == "PATCH")
            #expect(app.fivetran.received().last?.body == #"{"paused":true}"#)
            let shown = await app.get(page(seeded.connected) + "?notice=paused")
            #expect(shown.text.contains("Paused: Fivetran will not sync"))
            #expect(shown.text.contains("/resume\""))
            #expect(!shown.text.contains("/pause\""))
            let row = try await app.services.directory.connections.current().value.first { $0.connection.id == seeded.connected }
            #expect(row?.connection.paused == true)

            let resumed = try await app.submit([], to: page(seeded.connected) + "/resume", from: page(seeded.connected))
            #expect(resumed.header("Location") == page(seeded.connected) + "?notice=resumed")
            #expect(app.fivetran.received().last?.body == #"{"paused":false}"#)
            #expect(await app.get(page(seeded.connected)).text.contains("/pause\""))
        }
    }

    @Test("the sync frequency: an allowed value is sent and shown; another is refused without calling Fivetran")
    func frequency() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            let saved = try await app.submit(
                [("sync_frequency", "15")], to: page(seeded.connected) + "/frequency", from: page(seeded.connected))
            #expect(saved.status == 303)
            #expect(app.fivetran.received().last?.body == #"{"sync_frequency":15}"#)
            let shown = await app.get(page(seeded.connected) + "?notice=frequency")
            #expect(shown.text.contains("<option value=\"15\" selected>"))
            #expect(shown.text.contains("now syncs this connector every 15 minutes"))

            let sent = app.fivetran.received().count
            let refused = try await app.submit(
                [("sync_frequency", "7")], to: page(seeded.connected) + "/frequency", from: page(seeded.connected))
            #expect(refused.status == 422)
            #expect(refused.text.contains("Choose one of the sync frequencies listed"))
            #expect(app.fivetran.received().count == sent)
        }
    }

    @Test("sync now: asked of Fivetran for a connected connector, which then shows syncing")
    func sync() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            let synced = try await app.submit([], to: page(seeded.connected) + "/sync", from: page(seeded.connected))
            #expect(synced.status == 303)
            #expect(synced.header("Location") == page(seeded.connected) + "?notice=synced")
            #expect(app.fivetran.received().last?.path == "/v1/connections/\(seeded.connected)/sync")
            let shown = await app.get(page(seeded.connected) + "?notice=synced")
            #expect(shown.text.contains("Fivetran is starting a sync now"))
            #expect(shown.text.contains("badge-info\">Syncing</span>"))
        }
    }

    @Test("sync now is refused politely, without calling Fivetran, for an incomplete or a paused connector")
    func syncRefused() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            for (id, notice) in [(seeded.incomplete, "sync-incomplete"), (seeded.paused, "sync-paused")] {
                let refused = try await app.submit([], to: page(id) + "/sync", from: page(id))
                #expect(refused.status == 303)
                #expect(refused.header("Location") == page(id) + "?notice=\(notice)")
            }
            #expect(app.fivetran.received().isEmpty)
            #expect(await app.get(page(seeded.incomplete) + "?notice=sync-incomplete").text.contains("setup is not finished"))
        }
    }

    @Test("Fivetran's refusals come back on the page in words: 429 with the retry time, 409 with its message")
    func fivetranErrors() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            app.fivetran.injectFaults(status: 429, count: 1, retryAfter: 40)
            let limited = try await app.submit(
                [("sync_frequency", "30")], to: page(seeded.connected) + "/frequency", from: page(seeded.connected))
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") == "40")
            #expect(limited.text.contains("Try again in 40 seconds"))
            #expect(limited.text.contains("<option value=\"30\" selected>"))  // the value chosen is kept

            app.fivetran.injectFaults(status: 409, count: 1)
            let conflict = try await app.submit([], to: page(seeded.connected) + "/pause", from: page(seeded.connected))
            #expect(conflict.status == 409)
            #expect(conflict.text.contains("(409)"))
            #expect(conflict.text.contains("Fivetran said"))
        }
    }

    @Test("delete: only after the schema is typed on the confirmation page; then it is gone from Fivetran and the list")
    func delete() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            let id = seeded.incomplete
            let schema = try await app.services.directory.detail(id: id).row.connection.schema
            try app.services.store.setConnectorName("Mistake", for: id, by: "ann")
            let form = await app.get(page(id) + "/delete")
            #expect(form.status == 200)
            #expect(form.text.contains("name=\"confirm_schema\""))

            let wrong = try await app.submit([("confirm_schema", "not-it")], to: page(id) + "/delete", from: page(id) + "/delete")
            #expect(wrong.status == 422)
            #expect(wrong.text.contains("value=\"not-it\""))
            #expect(app.fivetran.received().isEmpty)

            let deleted = try await app.submit([("confirm_schema", schema)], to: page(id) + "/delete", from: page(id) + "/delete")
            #expect(deleted.status == 303)
            #expect(deleted.header("Location") == "/connectors?deleted=\(schema)")
            #expect(app.fivetran.received().last?.method == "DELETE")
            let list = await app.get("/connectors?deleted=\(schema)")
            #expect(list.text.contains("was deleted from Fivetran"))
            #expect(!list.text.contains("href=\"/connectors/\(id)\""))
            #expect(await app.get(page(id)).status == 404)
            // The display name kept in SQLite went with it.
            #expect(try app.services.store.connectorNames()[id] == nil)
        }
    }

    @Test("a forged action (no CSRF token) changes nothing")
    func forged() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            let forged = await app.send(
                "POST", page(seeded.connected) + "/pause", headers: ["Content-Type": "application/x-www-form-urlencoded"])
            #expect(forged.status == 403)
            #expect(app.fivetran.received().isEmpty)
        }
    }

    @Test(
        "each action is in the audit with who did it and the outcome (needs the SQLite audit)",
        .enabled(if: AuditProbe.works, "the SQLite audit lands from the audit branch"))
    func audited() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            let page = page(seeded.connected)
            let form = await app.get(page)
            let cookie = try #require(form.header("Set-Cookie")?.split(separator: ";").first.map(String.init))
            let token = try #require(form.hiddenField(named: "_csrf"))
            let headers = ["Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie]
            _ = await app.send("POST", page + "/pause", headers: headers, body: Array("_csrf=\(token)".utf8), user: "alice")
            app.fivetran.injectFaults(status: 409, count: 1)
            _ = await app.send("POST", page + "/resume", headers: headers, body: Array("_csrf=\(token)".utf8), user: "alice")
            let entries = try app.services.store.auditEntries(AuditFilter(object: "connector:\(seeded.connected)"))
            #expect(entries.count == 2)
            #expect(entries.last?.actor == "alice")
            #expect(entries.last?.detail == "paused: true")
            #expect(entries.last?.error == nil)
            #expect(entries.first?.error?.contains("409") == true)
            // The page's rows are the audit's own: the actor links to their entries.
            #expect(await app.get(page).text.contains("title=\"Only alice's entries\">alice</a>"))
        }
    }
}
