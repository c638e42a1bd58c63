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
}
