import Foundation
import Model
import Store
import Testing

@testable import App

@Suite("The job page, in process")
struct JobPageTests {
    @Test("a failed job shows its error once, not again on each binding that had none of its own")
    func failedJob() async throws {
        try await withApp { app in
            let saved = try await app.submit(
                [("name", "Acme"), ("token", "front-token-acme"), ("resources", "tags"), ("resources", "teams")],
                to: "/captures", from: "/captures/new")
            let id = try #require(saved.header("Location")?.split(separator: "/").last.flatMap { Int64($0) })
            let job = try #require(try app.services.store.claimJob(token: "t", leaseFor: .seconds(30)))
            #expect(job.id == id)
            try app.services.store.finishJob(jobID: id, token: "t", outcome: .failed("Front said no (401)."), bindings: nil)
            let page = await app.get("/jobs/\(id)")
            #expect(page.status == 200)
            #expect(page.count("Front said no (401).") == 1)
            #expect(page.count("<p class=\"field-error\">") == 0)
        }
    }

    @Test("a running job shows each binding's position: the time it has read up to, as the page and the JSON give it")
    func position() async throws {
        try await withApp { app in
            let saved = try await app.submit(
                [("name", "Acme"), ("token", "front-token-acme"), ("resources", "tags"), ("resources", "events")],
                to: "/captures", from: "/captures/new")
            let id = try #require(saved.header("Location")?.split(separator: "/").last.flatMap { Int64($0) })
            _ = try #require(try app.services.store.claimJob(token: "t", leaseFor: .seconds(30)))
            let progress = [
                BindingProgress(
                    name: "acme/events", resource: "events", state: .running, pages: 3, documents: 45, requests: 4,
                    position: 1_731_661_920_000, fraction: 0.5),
                BindingProgress(name: "acme/tags", resource: "tags", state: .done, pages: 1, documents: 20, requests: 1),
            ]
            _ = try app.services.store.heartbeat(jobID: id, token: "t", leaseFor: .seconds(30), bindings: progress)

            let json = try await app.get("/jobs/\(id)", headers: ["Accept": "application/json"]).json()
            let bindings = try #require(json["bindings"] as? [[String: Any]])
            let events = try #require(bindings.first { $0["resource"] as? String == "events" })
            #expect(events["cursor"] as? String == "2024-11-15T09:12:00Z")
            #expect(events["position_ms"] as? Int == 1_731_661_920_000)
            #expect(events["fraction"] as? Double == 0.5 && events["documents"] as? Int == 45)
            #expect(events["state"] as? String == "running" && events["done"] as? Bool == false)
            let tags = try #require(bindings.first { $0["resource"] as? String == "tags" })
            #expect(tags["cursor"] is NSNull && tags["position_ms"] is NSNull && tags["done"] as? Bool == true)

            let page = await app.get("/jobs/\(id)")
            #expect(page.count(#"<td class="cursor" data-field="cursor">2024-11-15T09:12:00Z</td>"#) == 1)
            #expect(page.count(#"aria-valuenow="50""#) == 1)
        }
    }
}
