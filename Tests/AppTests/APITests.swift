import Foundation
import Testing

@testable import App

@Suite("The JSON API, in process")
struct APITests {
    @Test("no token, a wrong token: 401 in JSON that says how to get one")
    func unauthorized() async throws {
        try await withApp { app in
            let none = await app.get("/api/jobs", headers: ["Accept": "application/json"])
            #expect(none.status == 401)
            #expect(none.header("Content-Type") == "application/json; charset=utf-8")
            let message = try #require((try none.json()["error"] as? [String: Any])?["message"] as? String)
            #expect(message.contains("Bearer"))
            #expect(await app.api("/api/jobs", token: "wrong").status == 401)
        }
    }

    @Test(
        "paging parameters out of range are a 400 that names them",
        arguments: ["page=0", "per_page=0", "per_page=101", "page=9223372036854775807"])
    func badPaging(query: String) async throws {
        try await withApp { app in
            let answer = await app.api("/api/jobs?\(query)")
            #expect(answer.status == 400)
            let name = String(query.split(separator: "=")[0])
            #expect(answer.text.contains(name))
        }
    }

    @Test("jobs page newest first with a next link until the last page; unknown ids are 404; ETags give 304")
    func paging() async throws {
        try await withApp { app in
            // Saving a capture queues its first job and opens the job's page.
            var ids: [Int] = []
            for name in ["Acme", "Globex", "Initech"] {
                let saved = try await app.submit(
                    [("name", name), ("token", "front-token-\(name)"), ("resources", "tags")], to: "/captures",
                    from: "/captures/new")
                #expect(saved.status == 303)
                let job = try #require(saved.header("Location")?.split(separator: "/").last.flatMap { Int($0) })
                ids.append(job)
                let capture = try #require(try await app.api("/api/jobs/\(job)").json()["capture"] as? Int)
                let again = await app.api("/api/captures/\(capture)/jobs", method: "POST")
                #expect(again.status == 409)
                #expect((try again.json()["job"] as? [String: Any])?["id"] as? Int == job)
            }
            let first = try await app.api("/api/jobs?per_page=2").json()
            let firstJobs = try #require(first["jobs"] as? [[String: Any]])
            #expect(firstJobs.compactMap { $0["id"] as? Int } == [ids[2], ids[1]])
            let next = try #require(first["next"] as? String)
            let second = try await app.api(next).json()
            #expect((second["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [ids[0]])
            #expect(second["next"] is NSNull)

            let one = await app.api("/api/jobs/\(ids[0])")
            #expect(one.status == 200)
            let etag = try #require(one.header("ETag"))
            let unchanged = await app.send(
                "GET", "/api/jobs/\(ids[0])", headers: ["Authorization": "Bearer \(AppHarness.apiToken)", "If-None-Match": etag])
            #expect(unchanged.status == 304)
            #expect(await app.api("/api/jobs/999999").status == 404)
            #expect(await app.api("/api/captures/999999/jobs", method: "POST").status == 404)
        }
    }

    @Test("the sample's JSON routes: the list is encoded once per data version and keeps the sample's shape")
    func sampleList() async throws {
        try await withApp(connections: 5) { app in
            let first = await app.get("/_/connectors")
            let second = await app.get("/_/connectors")
            #expect(first.status == 200)
            #expect(first.body == second.body)
            let list = try #require(try JSONSerialization.jsonObject(with: Data(first.body)) as? [[String: Any]])
            #expect(list.count == 5)
            #expect(list.allSatisfy { $0["display_name"] is String && $0["connect_card"] == nil })
            let bad = await app.send(
                "POST", "/_/connectors", headers: ["Content-Type": "application/json"], body: Array("{".utf8))
            #expect(bad.status == 400)
        }
    }
}
