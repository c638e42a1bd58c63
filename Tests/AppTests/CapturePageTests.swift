import Foundation
import Model
import Store
import Testing

@testable import App

@Suite("The capture pages: schedule, edit, delete, pause, in process")
struct CapturePageTests {
    @Test("the new form offers manual, 1, 5, 15, 60 and a number, with every 5 minutes chosen")
    func scheduleField() async throws {
        try await withApp { app in
            let form = await app.get("/captures/new")
            #expect(form.status == 200)
            for value in ["manual", "1", "5", "15", "60", "other"] {
                #expect(form.text.contains("name=\"schedule\" value=\"\(value)\""), "\(value)")
            }
            #expect(form.text.contains("name=\"schedule\" value=\"5\" checked"))
            #expect(form.count(" checked>") == 1 + 8)  // every 5 minutes, and the eight resources
            #expect(form.text.contains("name=\"every_minutes\" type=\"number\" min=\"1\" max=\"1440\""))
        }
    }

    @Test("a schedule out of range comes back 422 naming the field, values kept, the token not echoed")
    func scheduleErrors() async throws {
        try await withApp { app in
            for (schedule, minutes) in [("other", "0"), ("other", "1441"), ("other", "soon"), ("other", ""), ("weekly", "")] {
                let answer = try await app.submit(
                    [
                        ("name", "Acme"), ("token", "front-secret-token"), ("resources", "tags"), ("schedule", schedule),
                        ("every_minutes", minutes),
                    ], to: "/captures", from: "/captures/new")
                #expect(answer.status == 422, "\(schedule) \(minutes)")
                #expect(answer.text.contains("id=\"schedule_error\""))
                #expect(answer.text.contains("value=\"Acme\""))
                #expect(!answer.text.contains("front-secret-token"))
                #expect(answer.count("<p class=\"field-error\"") == 1)
            }
            let kept = try await app.submit(
                [
                    ("name", ""), ("token", "front-secret-token"), ("resources", "tags"), ("schedule", "other"),
                    ("every_minutes", "7"),
                ],
                to: "/captures", from: "/captures/new")
            #expect(kept.status == 422)
            #expect(kept.text.contains("value=\"other\" checked"))
            #expect(kept.text.contains("value=\"7\""))
            #expect(kept.text.contains("id=\"name_error\""))
        }
    }

    @Test("saving with a schedule stores it; the list shows the schedule, the next run and each collection's freshness")
    func savedSchedule() async throws {
        try await withApp { app in
            let saved = try await app.submit(
                [
                    ("name", "Acme"), ("token", "front-token-acme"), ("resources", "tags"), ("schedule", "other"),
                    ("every_minutes", "30"),
                ], to: "/captures", from: "/captures/new")
            #expect(saved.status == 303)
            let manual = try await app.submit(
                [("name", "Globex"), ("token", "front-token-globex"), ("resources", "tags"), ("schedule", "manual")],
                to: "/captures", from: "/captures/new")
            #expect(manual.status == 303)
            let captures = try app.services.store.captures()
            #expect(captures.map(\.schedule.everyMinutes) == [30, nil])
            let list = await app.get("/captures")
            #expect(list.text.contains("every 30 minutes"))
            #expect(list.text.contains("after the running job"))  // the first job is queued
            #expect(list.text.contains(">manual<"))
            #expect(list.text.contains("not yet brought up to date"))
        }
    }

    @Test("the capture page shows the schedule, a chart of its runs and Pause; a missing capture is a 404 page")
    func capturePage() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme")["id"] as? Int)
            let page = await app.get("/captures/\(id)")
            #expect(page.status == 200)
            #expect(page.text.contains("every 5 minutes"))
            #expect(page.text.contains("<svg"))
            #expect(page.text.contains("role=\"img\""))
            #expect(page.text.contains("action=\"/captures/\(id)/pause\""))
            #expect(!page.text.contains("action=\"/captures/\(id)/resume\""))
            #expect(page.text.contains("href=\"/captures/\(id)/edit\""))
            #expect(page.text.contains("href=\"/captures/\(id)/delete\""))
            for missing in ["/captures/999999", "/captures/999999/edit", "/captures/999999/delete"] {
                let answer = await app.get(missing)
                #expect(answer.status == 404, "\(missing)")
                #expect(answer.header("Content-Type")?.hasPrefix("text/html") == true)
            }
        }
    }

    @Test("the edit form never shows the token, only its last four; blank keeps it")
    func editForm() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme")["id"] as? Int)
            let form = await app.get("/captures/\(id)/edit")
            #expect(form.status == 200)
            #expect(form.text.contains("…abcd"))
            #expect(!form.text.contains("front-token-Acme"))
            #expect(form.text.contains("value=\"Acme\""))
            #expect(form.text.contains("name=\"removed_collections\" value=\"keep\" checked"))
            let bad = try await app.submit(
                [("name", "Acme"), ("token", "short"), ("resources", "tags"), ("schedule", "5")], to: "/captures/\(id)/edit",
                from: "/captures/\(id)/edit")
            #expect(bad.status == 422)
            #expect(bad.text.contains("id=\"token_error\""))
            #expect(!bad.text.contains("value=\"short\""))
        }
    }

    // MARK: Needs the store's edits (SQLiteStore+Schedules)

    @Test("editing replaces the token (the hint follows, the token is never shown), the schedule and the bindings")
    func edit() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme", resources: ["tags", "teams"])["id"] as? Int)
            let before = try #require(try app.services.store.capture(id: Int64(id)))
            let saved = try await app.submit(
                [
                    ("name", "Acme"), ("token", "front-rotated-token-wxyz"), ("start_date", ""), ("resources", "tags"),
                    ("resources", "events"), ("schedule", "15"), ("removed_collections", "keep"),
                ], to: "/captures/\(id)/edit", from: "/captures/\(id)/edit")
            #expect(saved.status == 303, "\(saved.text)")
            #expect(saved.header("Location") == "/captures/\(id)?notice=saved")
            let capture = try #require(try app.services.store.capture(id: Int64(id)))
            #expect(capture.tokenHint == "wxyz")
            #expect(capture.sealedToken != before.sealedToken)
            #expect(capture.schedule.everyMinutes == 15)
            #expect(capture.resources == ["events", "tags"])
            let page = await app.get("/captures/\(id)?notice=saved")
            #expect(page.text.contains("…wxyz"))
            #expect(page.text.contains("Saved."))
            #expect(!page.text.contains("front-rotated-token"))
            #expect(!(await app.get("/captures/\(id)/edit")).text.contains("front-rotated-token"))

            // A blank token keeps the one saved.
            let again = try await app.submit(
                [("name", "Acme"), ("token", ""), ("resources", "tags"), ("resources", "events"), ("schedule", "manual")],
                to: "/captures/\(id)/edit", from: "/captures/\(id)/edit")
            #expect(again.status == 303)
            let kept = try #require(try app.services.store.capture(id: Int64(id)))
            #expect(kept.tokenHint == "wxyz")
            #expect(kept.schedule.everyMinutes == nil)
        }
    }

    @Test("removing a binding with delete removes its collection; while a job runs the form says why it cannot, values kept")
    func removeBinding() async throws {
        try await withApp { app in
            let store = app.services.store
            let id = try #require(try await app.makeCapture("Acme", resources: ["tags", "teams"])["id"] as? Int)
            for collection in ["acme/tags", "acme/teams"] {
                try await store.commit(
                    CollectionChanges(collection: collection, upserts: [DocumentWrite(key: "1", json: Data("{}".utf8))]))
            }
            #expect(await app.api("/api/captures/\(id)/jobs", method: "POST").status == 201)
            _ = try #require(try store.claimJob(token: "t", leaseFor: .seconds(60)))
            let fields = [
                ("name", "Acme"), ("resources", "tags"), ("schedule", "5"), ("removed_collections", "delete"),
            ]
            let refused = try await app.submit(fields, to: "/captures/\(id)/edit", from: "/captures/\(id)/edit")
            #expect(refused.status == 409)
            #expect(refused.text.contains("is writing these collections"))
            #expect(refused.text.contains("name=\"removed_collections\" value=\"delete\" checked"))
            #expect(try store.collections().map(\.name).contains("acme/teams"))

            let job = try #require(try store.jobs(JobFilter(captureID: Int64(id), limit: 1)).first)
            try store.finishJob(jobID: job.id, token: "t", outcome: .succeeded, bindings: nil)
            let saved = try await app.submit(fields, to: "/captures/\(id)/edit", from: "/captures/\(id)/edit")
            #expect(saved.status == 303, "\(saved.text)")
            let names = try store.collections().map(\.name)
            #expect(names.contains("acme/tags") && !names.contains("acme/teams"))
        }
    }

    @Test("pause and resume: 303 back with a notice, the page offers the other button, the API agrees")
    func pauseResume() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme")["id"] as? Int)
            let paused = try await app.submit([], to: "/captures/\(id)/pause", from: "/captures/\(id)")
            #expect(paused.status == 303)
            #expect(paused.header("Location") == "/captures/\(id)?notice=paused")
            let page = await app.get("/captures/\(id)?notice=paused")
            #expect(page.text.contains("action=\"/captures/\(id)/resume\""))
            #expect(!page.text.contains("action=\"/captures/\(id)/pause\""))
            #expect(page.text.contains("every 5 minutes (paused)"))
            #expect(page.text.contains("Paused: no run starts by itself"))
            #expect(try await app.api("/api/captures/\(id)").json()["paused"] as? Bool == true)

            let resumed = try await app.submit([], to: "/captures/\(id)/resume", from: "/captures/\(id)")
            #expect(resumed.header("Location") == "/captures/\(id)?notice=resumed")
            #expect(try await app.api("/api/captures/\(id)").json()["paused"] as? Bool == false)
            // A forged POST (no token) changes nothing.
            let forged = await app.send("POST", "/captures/\(id)/pause")
            #expect(forged.status == 403)
            #expect(try await app.api("/api/captures/\(id)").json()["paused"] as? Bool == false)
        }
    }

    @Test("delete needs the name typed: a mismatch is 422 and keeps the capture; then keep or delete the collections")
    func delete() async throws {
        try await withApp { app in
            let store = app.services.store
            for (name, choice) in [("Acme", "keep"), ("Globex", "delete")] {
                let id = try #require(try await app.makeCapture(name)["id"] as? Int)
                let collection = "\(name.lowercased())/tags"
                try await store.commit(
                    CollectionChanges(collection: collection, upserts: [DocumentWrite(key: "1", json: Data("{}".utf8))]))
                let confirm = await app.get("/captures/\(id)/delete")
                #expect(confirm.status == 200)
                #expect(confirm.text.contains("name=\"confirm_name\""))

                let wrong = try await app.submit(
                    [("confirm_name", name.lowercased()), ("collections", choice)], to: "/captures/\(id)/delete",
                    from: "/captures/\(id)/delete")
                #expect(wrong.status == 422)
                #expect(wrong.text.contains("id=\"confirm_error\""))
                #expect(try store.capture(id: Int64(id)) != nil)

                let deleted = try await app.submit(
                    [("confirm_name", name), ("collections", choice)], to: "/captures/\(id)/delete",
                    from: "/captures/\(id)/delete")
                #expect(deleted.status == 303, "\(deleted.text)")
                #expect(deleted.header("Location")?.hasPrefix("/captures?notice=deleted") == true)
                #expect(try store.capture(id: Int64(id)) == nil)
                #expect(try store.collections().map(\.name).contains(collection) == (choice == "keep"))
                let list = await app.get(deleted.header("Location") ?? "/captures")
                #expect(list.text.contains("The capture was deleted"))
            }
        }
    }
}
