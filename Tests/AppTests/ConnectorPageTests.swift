import Foundation
import Sandbox
import Testing

@testable import App

/// Runs `body` with a fresh app, stopping it afterwards whatever happens. One app at a time:
/// each brings its own Fivetran stand-in, which serves from this process's cooperative pool, and
/// a dozen of them building 1,200-connection pages at once on 2 cores starve each other's
/// answers past the 15 s page budget.
func withApp(
    connections: Int = 40, environment: [String: String] = [:], _ body: (AppHarness) async throws -> Void
) async throws {
    await OneAtATime.shared.enter()
    defer { Task { await OneAtATime.shared.leave() } }
    let app = try await AppHarness.start(connections: connections, environment: environment)
    do {
        try await body(app)
    } catch {
        await app.stop()
        throw error
    }
    await app.stop()
}

/// A lock for async code: `enter` waits its turn, `leave` lets the next one in.
actor OneAtATime {
    static let shared = OneAtATime()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}

@Suite("The connector pages, in process")
struct ConnectorPageTests {
    @Test("with no connectors the list says so and sends people to the catalog")
    func empty() async throws {
        try await withApp(connections: 0) { app in
            let page = await app.get("/connectors")
            #expect(page.status == 200)
            #expect(page.text.contains("No connectors yet"))
            #expect(page.text.contains("href=\"/services\""))
            #expect(page.count("<tr>") == 0)
        }
    }

    @Test("one connector is one row, with its state and a way into its setup")
    func one() async throws {
        try await withApp(connections: 1) { app in
            let page = await app.get("/connectors")
            #expect(page.status == 200)
            #expect(page.text.contains("1 in this group"))
            #expect(page.count("<tr>") == 2)  // the header and the connector
            #expect(page.text.contains("/setup\">"))
        }
    }

    @Test("1,200 connectors: every row, the counts, filtering by state and sorting by name")
    func many() async throws {
        try await withApp(connections: 1200) { app in
            let page = await app.get("/connectors")
            #expect(page.text.contains("1200 in this group"))
            #expect(page.count("<tr>") == 1201)
            let broken = await app.get("/connectors?state=broken")
            #expect(broken.count("<tr>") > 1)
            #expect(broken.count("<tr>") - 1 == broken.count("badge-bad\">Broken</span>"))
            #expect(!broken.text.contains("badge-ok\">Connected</span>"))
            let sorted = await app.get("/connectors?sort=name&dir=asc")
            let names = sorted.text.components(separatedBy: "\"><strong>").dropFirst().map {
                $0.components(separatedBy: "</strong>")[0]
            }
            #expect(names.count == 1200)
            #expect(names == names.sorted { $0.localizedCaseInsensitiveCompare($1) == .orderedAscending })
        }
    }

    @Test("a search that matches nothing says so and offers the whole list")
    func noMatch() async throws {
        try await withApp { app in
            let page = await app.get("/connectors?q=zzzz-nothing-matches")
            #expect(page.text.contains("No connector matches"))
            #expect(page.text.contains("value=\"zzzz-nothing-matches\""))
        }
    }

    @Test("the list's content is kept and shared, but the layout is each visitor's own")
    func sharedContentOwnLayout() async throws {
        try await withApp { app in
            let ann = await app.get("/connectors", user: "ann")
            let bob = await app.get("/connectors", user: "bob")
            #expect(ann.text.contains("<span class=\"user\">ann</span>"))
            #expect(bob.text.contains("<span class=\"user\">bob</span>"))
            #expect(!bob.text.contains(">ann<"))
            // Same data, same rows: the content was rendered once and served twice.
            #expect(ann.text.components(separatedBy: "<main>")[1] == bob.text.components(separatedBy: "<main>")[1])
            #expect(app.fivetran.stats()["GET /v1/groups/{id}/connections"] == 1)
        }
    }

    @Test("the catalog page searches by text and filters by category")
    func catalog() async throws {
        try await withApp { app in
            let all = await app.get("/services")
            #expect(all.status == 200)
            let total = all.count("<article class=\"tile\">")
            #expect(total > 700)
            let search = await app.get("/services?q=salesforce")
            #expect(search.count("<article class=\"tile\">") >= 1)
            #expect(search.count("<article class=\"tile\">") < total)
            #expect(search.text.contains("Salesforce"))
        }
    }

    @Test("without Fivetran settings the pages answer 503 and say what to set")
    func notConfigured() async throws {
        try await withApp(environment: ["FIVETRAN_API_KEY": ""]) { app in
            let page = await app.get("/connectors")
            #expect(page.status == 503)
            #expect(page.text.contains("FIVETRAN_API_KEY"))
            let json = await app.get("/_/connectors")
            #expect(json.status == 503)
            #expect(json.header("Content-Type") == "application/json; charset=utf-8")
        }
    }
}

@Suite("Creating a connector, in process")
struct CreateConnectorTests {
    @Test("the form without a service goes back to the catalog; an unknown service is a 404 page")
    func formEntry() async throws {
        try await withApp { app in
            let bare = await app.get("/connectors/new")
            #expect(bare.status == 302)
            #expect(bare.header("Location") == "/services")
            let unknown = await app.get("/connectors/new?service=no_such_service")
            #expect(unknown.status == 404)
            #expect(unknown.text.contains("no_such_service"))
            let known = await app.get("/connectors/new?service=salesforce&name=Sales%20Team")
            #expect(known.status == 200)
            #expect(known.text.contains("value=\"sales_team\""))
        }
    }

    @Test(
        "each wrong field is sent back with a 422, what was typed kept and nothing created",
        arguments: [
            (name: "", schema: "fine_schema", says: "Give the connector a name"),
            (name: String(repeating: "x", count: 201), schema: "fine_schema", says: "200 characters or fewer"),
            (name: "Sales", schema: "9starts_with_a_digit", says: "letter"),
            (name: "Sales", schema: "Has Spaces", says: "letter"),
        ])
    func invalidFields(name: String, schema: String, says: String) async throws {
        try await withApp { app in
            let answer = try await app.submit(
                [("service", "salesforce"), ("display_name", name), ("schema", schema)], to: "/connectors",
                from: "/connectors/new?service=salesforce")
            #expect(answer.status == 422)
            #expect(answer.text.contains(says))
            #expect(answer.text.contains("value=\"\(schema.replacingOccurrences(of: " ", with: " "))\""))
            #expect(app.fivetran.stats()["POST /v1/connections"] == nil)
        }
    }

    @Test("a schema another connector of the group uses is refused before Fivetran is asked")
    func schemaTaken() async throws {
        try await withApp(connections: 3) { app in
            let list = await app.get("/_/connectors")
            let taken = try #require(
                (try JSONSerialization.jsonObject(with: Data(list.body)) as? [[String: Any]])?.first?["schema"] as? String)
            let schema = String(taken.split(separator: ".")[0])
            let answer = try await app.submit(
                [("service", "salesforce"), ("display_name", "Again"), ("schema", schema)], to: "/connectors",
                from: "/connectors/new?service=salesforce")
            #expect(answer.status == 422)
            #expect(answer.text.contains("already uses the schema"))
            #expect(app.fivetran.stats()["POST /v1/connections"] == nil)
        }
    }

    @Test("an unknown service in the form is a 422 page")
    func unknownService() async throws {
        try await withApp { app in
            let answer = try await app.submit(
                [("service", "no_such_service"), ("display_name", "X"), ("schema", "x")], to: "/connectors",
                from: "/connectors/new?service=salesforce")
            #expect(answer.status == 422)
            #expect(answer.text.contains("no_such_service"))
        }
    }

    @Test("a valid form creates the connector, sends the browser to its Connect Card, and the list shows it at once")
    func creates() async throws {
        try await withApp(connections: 2) { app in
            #expect(await app.get("/connectors").text.contains("2 in this group"))
            let answer = try await app.submit(
                [("service", "salesforce"), ("display_name", "Sales <Team>"), ("schema", "sales_team")], to: "/connectors",
                from: "/connectors/new?service=salesforce")
            #expect(answer.status == 303)
            #expect(answer.header("Location")?.hasPrefix(app.fivetran.baseURL!.absoluteString + "/connect-card/") == true)
            #expect(app.fivetran.stats()["POST /v1/connections"] == 1)
            let list = await app.get("/connectors")
            #expect(list.text.contains("3 in this group"))
            #expect(list.text.contains("Sales &lt;Team&gt;"))
            #expect(!list.text.contains("Sales <Team>"))
        }
    }

    @Test("Fivetran failing during the create comes back on the form in words, with the values kept")
    func fivetranFails() async throws {
        try await withApp { app in
            let form = await app.get("/connectors/new?service=salesforce")
            #expect(form.status == 200)
            app.fivetran.injectFaults(status: 500, count: 20)
            let answer = try await app.submit(
                [("service", "salesforce"), ("display_name", "Sales"), ("schema", "sales_two")], to: "/connectors",
                from: "/connectors/new?service=salesforce")
            #expect(answer.status == 502)
            #expect(answer.text.contains("notice-bad"))
            #expect(answer.text.contains("value=\"sales_two\""))
        }
    }

    @Test("a POST without the form's token changes nothing (403)")
    func forged() async throws {
        try await withApp { app in
            let answer = await app.send(
                "POST", "/connectors", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Array("service=salesforce&display_name=X&schema=x".utf8))
            #expect(answer.status == 403)
            #expect(app.fivetran.stats()["POST /v1/connections"] == nil)
        }
    }
}
