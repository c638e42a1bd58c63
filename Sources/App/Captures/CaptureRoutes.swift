import Foundation
import Jobs
import Model
import Store
import Web

/// Front captures: the list with "Sync now", the new-capture form, one capture's page.
struct CaptureRoutes {
    let site: Site
    let access: StoreAccess
    /// Seals the Front token of a new capture.
    let box: SecretBox

    func register(in router: inout Router) {
        router.get("/captures") { request in try await list(request) }
        router.get("/captures/new") { request in try await newForm(request) }
        router.post("/captures") { request in try await create(request) }
        router.get("/captures/{id}") { request in try await show(request) }
        router.post("/captures/{id}/jobs") { request in try await syncNow(request) }
    }

    func list(_ request: Request) async throws -> Response {
        let (captures, latest) = try access.read { store in (try store.captures(), try store.latestJobs()) }
        let page = CaptureListPage(captures: captures, latestJobs: latest, now: Date())
        return try site.page("captures", title: "Captures", section: .captures, model: page, request: request)
    }

    func show(_ request: Request) async throws -> Response {
        let capture = try access.capture(request)
        let jobs = try access.read { try $0.jobs(JobFilter(captureID: capture.id, limit: 20)) }
        let page = CapturePage(capture: capture, jobs: jobs, now: Date())
        return try site.page("captures-show", title: capture.name, section: .captures, model: page, request: request)
    }

    func syncNow(_ request: Request) async throws -> Response {
        let capture = try access.capture(request)
        switch try access.enqueue(capture, requestedBy: request.remoteUser) {
        case .queued(let job):
            return .redirect(to: "/jobs/\(job.id)")
        case .alreadyActive(let job):
            // Say so on the running job's page instead of queuing a duplicate.
            return .redirect(to: "/jobs/\(job.id)?already=1")
        }
    }

    // MARK: Creating one

    func newForm(_ request: Request) async throws -> Response {
        try formPage(NewCapturePage(form: .blank), request: request)
    }

    func create(_ request: Request) async throws -> Response {
        var form = CaptureForm(try request.form())
        var problems = form.validate()
        if problems.isEmpty {
            let sealed: Data
            do { sealed = try box.seal(form.token) } catch {
                throw HTTPError(status: 500, title: "Cannot save the token", message: error.description)
            }
            let new = NewCapture(
                name: form.name, prefix: form.prefix, sealedToken: sealed, tokenHint: String(form.token.suffix(4)),
                startDate: form.startDate, resources: form.resources.sorted(), createdBy: request.remoteUser)
            do {
                let capture = try access.store.insertCapture(new)
                switch try access.enqueue(capture, requestedBy: request.remoteUser) {
                case .queued(let job), .alreadyActive(let job):
                    return .redirect(to: "/jobs/\(job.id)")
                }
            } catch let error as StoreError where error.isNameTaken {
                problems.name = "A capture named like this (collections \(form.prefix)/…) already exists. Choose another name."
            } catch let error as StoreError {
                throw access.failure(error)
            }
        }
        // The page has no place for the token: it is never echoed back.
        return try formPage(NewCapturePage(form: form, problems: problems), request: request, status: 422)
    }

    private func formPage(_ page: NewCapturePage, request: Request, status: Int = 200) throws -> Response {
        try site.page("captures-new", title: "New capture", section: .captures, model: page, request: request, status: status)
    }
}
