import Foundation
import Jobs
import Model
import Store
import Web

/// Front captures: the list with "Sync now", the new-capture form, one capture's page; editing,
/// deleting, pausing and resuming are in `CaptureRoutes+Edit.swift`.
struct CaptureRoutes {
    let site: Site
    let access: StoreAccess
    /// Seals the Front token of a new capture (or a replaced one).
    let box: SecretBox

    func register(in router: inout Router) {
        router.get("/captures") { request in try await list(request) }
        router.get("/captures/new") { request in try await newForm(request) }
        router.post("/captures") { request in try await create(request) }
        router.get("/captures/{id}") { request in try await show(request) }
        router.post("/captures/{id}/jobs") { request in try await syncNow(request) }
        router.get("/captures/{id}/edit") { request in try await editForm(request) }
        router.post("/captures/{id}/edit") { request in try await edit(request) }
        router.get("/captures/{id}/delete") { request in try await deleteForm(request) }
        router.post("/captures/{id}/delete") { request in try await delete(request) }
        router.post("/captures/{id}/pause") { request in try await setPaused(true, request) }
        router.post("/captures/{id}/resume") { request in try await setPaused(false, request) }
    }

    func list(_ request: Request) async throws -> Response {
        let (captures, latest, asOf) = try access.read { store in
            (try store.captures(), try store.latestJobs(), try store.collectionsAsOf())
        }
        let page = CaptureListPage(
            captures: captures, latestJobs: latest, asOf: asOf, now: Date(), notice: CaptureNotice(request))
        return try site.page("captures", title: "Captures", section: .captures, model: page, request: request)
    }

    func show(_ request: Request) async throws -> Response {
        let capture = try access.capture(request)
        let (jobs, asOf, audit) = try access.read { store in
            (
                try store.jobs(JobFilter(captureID: capture.id, limit: HistoryChart.limit)), try store.collectionsAsOf(),
                try store.auditEntries(
                    AuditFilter(object: NewAuditEntry.object(capture: capture.id), limit: AuditExcerpt.limit))
            )
        }
        let page = CapturePage(
            capture: capture, jobs: jobs, asOf: asOf, now: Date(), notice: CaptureNotice(request), audit: audit)
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
        try formPage(CaptureFormPage(new: .blank), title: "New capture", request: request)
    }

    func create(_ request: Request) async throws -> Response {
        let form = CaptureForm(try request.form())
        let (checked, found) = form.fields.check(creating: true)
        var problems = found
        if problems.isEmpty {
            do {
                let capture = try access.store.insertCapture(try checked.newCapture(box: box, createdBy: request.remoteUser))
                switch try access.enqueue(capture, requestedBy: request.remoteUser) {
                case .queued(let job), .alreadyActive(let job):
                    return .redirect(to: "/jobs/\(job.id)")
                }
            } catch let error as StoreError where error.isNameTaken {
                problems[.name] = Self.nameTaken(form.name)
            } catch let error as StoreError {
                throw access.failure(error)
            }
        }
        // The page has no place for the token: it is never echoed back.
        return try formPage(CaptureFormPage(new: form, problems: problems), title: "New capture", request: request, status: 422)
    }

    static func nameTaken(_ name: String) -> String {
        "A capture named like this (collections \(CaptureFields.prefix(of: name))/…) already exists. Choose another name."
    }

    func formPage(_ page: CaptureFormPage, title: String, request: Request, status: Int = 200) throws -> Response {
        try site.page("captures-form", title: title, section: .captures, model: page, request: request, status: status)
    }
}
