import Foundation
import Sandbox
import Testing

@testable import App

@Suite("/api/connectors, in process")
struct ConnectorAPITests {
    func json(_ app: AppHarness, _ method: String, _ target: String, _ body: String) async -> Answer {
        await app.send(
            method, target,
            headers: [
                "Authorization": "Bearer \(AppHarness.apiToken)", "Accept": "application/json",
                "Content-Type": "application/json",
            ],
            body: Array(body.utf8))
    }

    @Test("the list: every connector with its state, an ETag that answers 304, and 401 without a token")
    func list() async throws {
        try await withApp { app in
            let list = await app.api("/api/connectors")
            #expect(list.status == 200)
            let connectors = try #require(try list.json()["connectors"] as? [[String: Any]])
            #expect(connectors.count == 40)
            let keys: Set<String> = [
                "id", "service", "schema", "display_name", "setup_state", "sync_state", "paused", "sync_frequency",
                "succeeded_at",
                "failed_at",
            ]
            #expect(Set(try #require(connectors.first).keys) == keys)
            let etag = try #require(list.header("ETag"))
            let again = await app.send(
                "GET", "/api/connectors", headers: ["Authorization": "Bearer \(AppHarness.apiToken)", "If-None-Match": etag])
            #expect(again.status == 304)
            #expect(await app.get("/api/connectors").status == 401)
            #expect(await app.api("/api/connectors", token: "wrong").status == 401)
        }
    }

    @Test("one connector with its tasks and warnings; 404 for one not in the group")
    func one() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            let broken = await app.api("/api/connectors/\(seeded.broken)")
            #expect(broken.status == 200)
            let tasks = try #require(try broken.json()["tasks"] as? [[String: Any]])
            #expect(tasks.first?["code"] as? String == "reconnect")
            #expect(try broken.json()["warnings"] is [Any])
            let missing = await app.api("/api/connectors/nope")
            #expect(missing.status == 404)
            #expect(try missing.json()["error"] != nil)
        }
    }

    @Test("PATCH: paused and sync_frequency are sent to Fivetran; a bad value is 422 naming the field")
    func patch() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            let target = "/api/connectors/\(seeded.connected)"
            let changed = await json(app, "PATCH", target, #"{"paused": true, "sync_frequency": 60}"#)
            #expect(changed.status == 200)
            #expect(try changed.json()["paused"] as? Bool == true)
            #expect(try changed.json()["sync_frequency"] as? Int == 60)
            let sent = try #require(app.fivetran.received().last)
            #expect(sent.method == "PATCH")
            #expect(sent.body.contains(#""sync_frequency":60"#) && sent.body.contains(#""paused":true"#))

            let count = app.fivetran.received().count
            let bad = await json(app, "PATCH", target, #"{"sync_frequency": 7}"#)
            #expect(bad.status == 422)
            let fields = try #require((try bad.json()["error"] as? [String: Any])?["fields"] as? [String: String])
            #expect(fields["sync_frequency"]?.contains("1440") == true)
            #expect(await json(app, "PATCH", target, #"{"paused": "yes", "colour": 1}"#).status == 422)
            #expect(app.fivetran.received().count == count)
        }
    }

    @Test("sync is 202, refused with 409 for an incomplete connector; DELETE is 204 and then 404")
    func syncAndDelete() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            #expect(await app.api("/api/connectors/\(seeded.connected)/sync", method: "POST").status == 202)
            #expect(app.fivetran.received().last?.path == "/v1/connections/\(seeded.connected)/sync")
            let refused = await app.api("/api/connectors/\(seeded.incomplete)/sync", method: "POST")
            #expect(refused.status == 409)
            #expect(app.fivetran.received().count == 1)

            #expect(await app.api("/api/connectors/\(seeded.incomplete)", method: "DELETE").status == 204)
            #expect(app.fivetran.received().last?.method == "DELETE")
            #expect(await app.api("/api/connectors/\(seeded.incomplete)").status == 404)
            let list = try await app.api("/api/connectors").json()["connectors"] as? [[String: Any]]
            #expect(list?.count == 39)
        }
    }

    @Test("Fivetran's 429 comes back as 429 with Retry-After; a failing Fivetran as 502")
    func errors() async throws {
        try await withApp { app in
            let seeded = try await Seeded(app)
            app.fivetran.injectFaults(status: 429, count: 1, retryAfter: 45)
            let limited = await app.api("/api/connectors/\(seeded.connected)/sync", method: "POST")
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") == "45")
            app.fivetran.injectFaults(status: 500, count: 5)
            let failed = await json(app, "PATCH", "/api/connectors/\(seeded.connected)", #"{"paused": true}"#)
            #expect(failed.status == 502)
        }
    }
}
