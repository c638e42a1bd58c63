import Foundation
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
        return try site.page(
            "job", title: "Job \(job.id)", section: "captures", values: Self.pageValues(job, capture: capture, request: request),
            request: request)
    }

    func cancel(_ request: Request) async throws -> Response {
        let job = try access.job(request)
        _ = try access.read { try $0.requestCancel(jobID: job.id) }
        return .redirect(to: "/jobs/\(job.id)")
    }

    static func pageValues(_ job: JobRecord, capture: CaptureRecord?, request: Request) -> [String: Any] {
        let json = JobJSON(job, captureName: capture?.name)
        var values: [String: Any] = [
            "id": job.id, "state": job.life.state.rawValue, "badge": Format.badge(job.life.state),
            "active": job.life.isActive, "running": job.life.state == .running, "queued": job.life.state == .queued,
            "cancel_requested": job.life.cancelRequested && job.life.isActive,
            "capture_id": job.captureID, "capture_name": capture?.name ?? "capture \(job.captureID)",
            "created": json.created_at,
            "elapsed": json.elapsed_seconds.map(Format.duration) ?? "not started",
            "requests": job.requests, "attempts": job.life.attempts, "resumed": job.life.attempts > 1,
            "bindings": job.bindings.map(bindingRow),
            "already": request.query["already"] != nil && job.life.isActive,
        ]
        // Absent values stay out of the dictionary: an empty string still counts as "present" in a section.
        if let error = job.life.error { values["error"] = error }
        if let started = json.started_at { values["started"] = started }
        if let finished = json.finished_at { values["finished"] = finished }
        if let by = job.requestedBy, !by.isEmpty { values["requested_by"] = by }
        return values
    }

    static func bindingRow(_ binding: JobBindingProgress) -> [String: Any] {
        var row: [String: Any] = [
            "name": binding.name, "resource": binding.resource, "href": Format.collectionPath(binding.name),
            "pages": binding.pages, "documents": binding.documents, "deleted": binding.deleted,
            "requests": binding.requests, "state": binding.state, "cursor": binding.cursor ?? "",
            "badge": binding.done ? "badge-ok" : binding.state == "failed" ? "badge-bad" : binding.state == "running"
                ? "badge-info" : "",
        ]
        if let fraction = binding.fraction {
            row["percent"] = Format.whole(fraction * 100)
        } else {
            row["indeterminate"] = binding.state == "running"
            row["percent"] = 0
        }
        if let error = binding.error { row["error"] = error }
        return row
    }

    /// A row of a jobs table (the capture's page).
    static func summaryRow(_ job: JobRecord) -> [String: Any] {
        let json = JobJSON(job, captureName: nil)
        return [
            "id": job.id, "state": job.life.state.rawValue, "badge": Format.badge(job.life.state),
            "created": json.created_at, "created_ago": Format.ago(job.life.createdAt),
            "elapsed": json.elapsed_seconds.map(Format.duration) ?? "—",
            "documents": job.bindings.reduce(0) { $0 + $1.documents }, "requests": job.requests,
            "requested_by": job.requestedBy ?? "",
        ]
    }
}
