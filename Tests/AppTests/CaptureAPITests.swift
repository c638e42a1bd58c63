import Foundation
import Model
import Store
import Testing

@testable import App

extension AppHarness {
    /// A JSON request to `/api/…` with the harness's bearer token.
    func api(_ method: String, _ target: String, json: String, token: String = AppHarness.apiToken) async -> Answer {
        await send(
            method, target,
            headers: ["Authorization": "Bearer \(token)", "Accept": "application/json", "Content-Type": "application/json"],
            body: Array(json.utf8))
    }

    /// Makes a capture through the API (no job is queued) and answers its JSON.
    func makeCapture(
        _ name: String, resources: [String] = ["tags", "teams"], every: String = "5"
    ) async throws -> [String: Any] {
        let list = resources.map { "\"\($0)\"" }.joined(separator: ",")
        let answer = await api(
            "POST", "/api/captures",
            json:
                #"{"name": "\#(name)", "access_token": "front-token-\#(name)-abcd", "resources": [\#(list)], "every_minutes": \#(every)}"#
        )
        #expect(answer.status == 201, "\(answer.text)")
        return try answer.json()
    }
}

/// The `fields` of a JSON error answer.
func errorFields(_ answer: Answer) throws -> [String: String] {
    let error = try #require(try answer.json()["error"] as? [String: Any])
    return try #require(error["fields"] as? [String: String])
}

@Suite("The captures API, in process")
struct CaptureAPITests {
    @Test("create answers 201 with Location and the capture: defaults every 5 minutes and all eight resources; no token in it")
    func create() async throws {
        try await withApp { app in
            let answer = await app.api(
                "POST", "/api/captures", json: #"{"name": "Acme", "access_token": "front-secret-wxyz"}"#)
            #expect(answer.status == 201)
            let capture = try answer.json()
            let id = try #require(capture["id"] as? Int)
            #expect(answer.header("Location") == "/api/captures/\(id)")
            #expect(capture["every_minutes"] as? Int == 5)
            #expect(capture["paused"] as? Bool == false)
            #expect((capture["resources"] as? [String])?.count == 8)
            #expect((capture["collections"] as? [String])?.contains("acme/events") == true)
            #expect(capture["token_last4"] as? String == "wxyz")
            #expect(capture["start_date"] is NSNull)
            #expect(capture["last_job"] is NSNull)
            #expect(capture["created_by"] as? String == "api:env-1")
            #expect(!answer.text.contains("front-secret"))

            let manual = await app.api(
                "POST", "/api/captures",
                json:
                    #"{"name": "Globex", "access_token": "front-secret-2", "every_minutes": null, "start_date": "2024-11-15T00:00:00Z", "resources": ["tags"]}"#
            )
            #expect(manual.status == 201)
            let made = try manual.json()
            #expect(made["every_minutes"] is NSNull)
            #expect(made["start_date"] as? String == "2024-11-15T00:00:00Z")
            #expect(made["resources"] as? [String] == ["tags"])
        }
    }

    @Test("bad input is 422 naming every bad field; a name taken names name; not JSON is 400; another media type 415")
    func refusals() async throws {
        try await withApp { app in
            let bad = await app.api(
                "POST", "/api/captures",
                json:
                    #"{"name": "", "access_token": 12, "start_date": "yesterday", "every_minutes": 0, "resources": ["tags", "mail"], "evry": 1}"#
            )
            #expect(bad.status == 422)
            let fields = try errorFields(bad)
            #expect(
                Set(fields.keys) == ["name", "access_token", "start_date", "every_minutes", "resources", "evry"])
            #expect(fields["resources"]?.contains("mail") == true)
            #expect((try bad.json()["error"] as? [String: Any])?["status"] as? String == "422")

            for minutes in ["1441", "2.5", "\"5\"", "1e300"] {
                let answer = await app.api(
                    "POST", "/api/captures", json: #"{"name": "A", "access_token": "front-token", "every_minutes": \#(minutes)}"#)
                #expect(answer.status == 422, "every_minutes \(minutes)")
                #expect(try errorFields(answer).keys.sorted() == ["every_minutes"])
            }

            _ = try await app.makeCapture("Acme")
            let taken = await app.api("POST", "/api/captures", json: #"{"name": "ACME", "access_token": "front-token-2"}"#)
            #expect(taken.status == 422)
            #expect(try errorFields(taken).keys.sorted() == ["name"])

            #expect(await app.api("POST", "/api/captures", json: "{\"name\": ").status == 400)
            #expect(await app.api("POST", "/api/captures", json: "[1, 2]").status == 400)
            #expect(await app.api("POST", "/api/captures", json: "").status == 400)
            let form = await app.send(
                "POST", "/api/captures",
                headers: ["Authorization": "Bearer \(AppHarness.apiToken)", "Content-Type": "application/x-www-form-urlencoded"],
                body: Array("name=a".utf8))
            #expect(form.status == 415)
        }
    }

    @Test("list and get: every capture with its newest job; ETags give 304 until something changes; unknown ids 404")
    func read() async throws {
        try await withApp { app in
            let acme = try await app.makeCapture("Acme")
            _ = try await app.makeCapture("Globex", every: "null")
            let id = try #require(acme["id"] as? Int)
            let list = await app.api("/api/captures")
            #expect(list.status == 200)
            let captures = try #require(try list.json()["captures"] as? [[String: Any]])
            #expect(captures.compactMap { $0["name"] as? String } == ["Acme", "Globex"])
            #expect(captures[1]["every_minutes"] is NSNull)

            let one = await app.api("/api/captures/\(id)")
            #expect(one.status == 200)
            let etag = try #require(one.header("ETag"))
            let headers = ["Authorization": "Bearer \(AppHarness.apiToken)", "If-None-Match": etag]
            #expect(await app.send("GET", "/api/captures/\(id)", headers: headers).status == 304)

            let started = await app.api("/api/captures/\(id)/jobs", method: "POST")
            #expect(started.status == 201)
            let job = try #require(try started.json()["id"] as? Int)
            let after = await app.send("GET", "/api/captures/\(id)", headers: headers)
            #expect(after.status == 200)
            #expect((try after.json()["last_job"] as? [String: Any])?["id"] as? Int == job)

            #expect(await app.api("/api/captures/999999").status == 404)
            #expect(await app.api("PATCH", "/api/captures/999999", json: #"{"paused": true}"#).status == 404)
            #expect(await app.api("/api/captures/999999?collections=keep", method: "DELETE").status == 404)
        }
    }

    @Test("without a valid token every capture route is 401")
    func unauthorized() async throws {
        try await withApp { app in
            for (method, target) in [
                ("GET", "/api/captures"), ("POST", "/api/captures"), ("GET", "/api/captures/1"), ("PATCH", "/api/captures/1"),
                ("DELETE", "/api/captures/1?collections=keep"),
            ] {
                let answer = await app.api(method, target, json: "{}", token: "wrong")
                #expect(answer.status == 401, "\(method) \(target)")
                #expect(answer.header("WWW-Authenticate") != nil)
            }
        }
    }

    @Test("delete needs ?collections=keep or delete: without it 400 naming both, nothing removed")
    func deleteNeedsAChoice() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme")["id"] as? Int)
            for query in ["", "?collections=maybe"] {
                let answer = await app.api("/api/captures/\(id)\(query)", method: "DELETE")
                #expect(answer.status == 400)
                #expect(answer.text.contains("collections=keep") && answer.text.contains("collections=delete"))
            }
            #expect(await app.api("/api/captures/\(id)").status == 200)
        }
    }

    // MARK: Needs the store's edits (SQLiteStore+Schedules)

    @Test("patch changes what it names and keeps the rest; the token is replaced, never returned; bad fields are 422")
    func patch() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme", resources: ["tags", "teams", "events"])["id"] as? Int)
            let changed = await app.api(
                "PATCH", "/api/captures/\(id)",
                json:
                    #"{"name": "Acme support", "access_token": "front-new-token-9876", "every_minutes": 15, "paused": true, "resources": ["tags", "events"], "removed_collections": "keep"}"#
            )
            #expect(changed.status == 200, "\(changed.text)")
            let capture = try changed.json()
            #expect(capture["name"] as? String == "Acme support")
            #expect(capture["every_minutes"] as? Int == 15)
            #expect(capture["paused"] as? Bool == true)
            #expect(capture["resources"] as? [String] == ["events", "tags"])
            #expect(capture["token_last4"] as? String == "9876")
            #expect(!changed.text.contains("front-new-token"))

            let manual = try await app.api("PATCH", "/api/captures/\(id)", json: #"{"every_minutes": null}"#).json()
            #expect(manual["every_minutes"] is NSNull)
            #expect(manual["name"] as? String == "Acme support")

            let bad = await app.api(
                "PATCH", "/api/captures/\(id)", json: #"{"paused": "yes", "removed_collections": "maybe", "name": ""}"#)
            #expect(bad.status == 422)
            #expect(Set(try errorFields(bad).keys) == ["paused", "removed_collections", "name"])
        }
    }

    @Test("patch that would delete collections a running job writes is 409, and changes nothing")
    func patchWhileRunning() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme")["id"] as? Int)
            #expect(await app.api("/api/captures/\(id)/jobs", method: "POST").status == 201)
            _ = try #require(try app.services.store.claimJob(token: "t", leaseFor: .seconds(60)))
            let answer = await app.api(
                "PATCH", "/api/captures/\(id)", json: #"{"resources": ["tags"], "removed_collections": "delete"}"#)
            #expect(answer.status == 409)
            #expect((try answer.json()["error"] as? [String: Any])?["message"] as? String != nil)
            #expect(try await app.api("/api/captures/\(id)").json()["resources"] as? [String] == ["tags", "teams"])
        }
    }

    @Test("delete with keep leaves the collections; with delete they go; either way the capture is gone (404 after)")
    func delete() async throws {
        try await withApp { app in
            let store = app.services.store
            for (name, choice) in [("Acme", "keep"), ("Globex", "delete")] {
                let id = try #require(try await app.makeCapture(name)["id"] as? Int)
                let collection = "\(name.lowercased())/tags"
                try await store.commit(
                    CollectionChanges(collection: collection, upserts: [DocumentWrite(key: "tag_1", json: Data("{}".utf8))]))
                #expect(await app.api("/api/captures/\(id)?collections=\(choice)", method: "DELETE").status == 204)
                #expect(await app.api("/api/captures/\(id)").status == 404)
                let names = try store.collections().map(\.name)
                #expect(names.contains(collection) == (choice == "keep"), "\(choice)")
            }
        }
    }
}
