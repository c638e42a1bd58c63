import Foundation
import Model
import Store
import Web

/// One job's page (live while it runs; JSON for `Accept: application/json`) and its cancel.
struct JobRoutes {
    let site: Site
    let access: StoreAccess

    func register(in router: inout Router) {
        router.get("/jobs/{id}") { request in try await show(request) }
        router.post("/jobs/{id}/cancel") { request in try await cancel(request) }
    }

    func show(_ request: Request) async throws -> Response {
        let job = try access.job(request)
        let capture = try? access.store.capture(id: job.captureID)
        if request.wantsJSON {
            return .jsonWithETag(JobJSON(job, captureName: capture?.name), request: request)
        }
        let page = JobPage(job: job, capture: capture, askedAgain: request.query["already"] != nil, now: Date())
        return try site.page("job", title: "Job \(job.id)", section: .captures, model: page, request: request)
    }

    func cancel(_ request: Request) async throws -> Response {
        let job = try access.job(request)
        _ = try access.read { try $0.requestCancel(jobID: job.id, by: request.remoteUser) }
        return .redirect(to: "/jobs/\(job.id)")
    }
}
