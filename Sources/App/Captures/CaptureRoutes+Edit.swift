import Foundation
import Model
import Store
import Web

// A saved capture's life after it was made: edit, pause and resume, delete.
extension CaptureRoutes {
    // MARK: Editing

    func editForm(_ request: Request) async throws -> Response {
        let capture = try access.capture(request)
        let page = CaptureFormPage(
            edit: CaptureForm(capture: capture), capture: capture, runningJobID: try runningJob(of: capture))
        return try formPage(page, title: "Edit \(capture.name)", request: request)
    }

    func edit(_ request: Request) async throws -> Response {
        let capture = try access.capture(request)
        let form = CaptureForm(try request.form())
        let (checked, found) = form.fields.check(creating: false)
        var problems = found
        var conflict: String?
        if problems.isEmpty {
            let change = try checked.change(from: capture, box: box)
            do {
                let saved =
                    change.isEmpty ? capture : try access.store.updateCapture(id: capture.id, change, by: request.remoteUser)
                if saved != nil { return .redirect(to: "/captures/\(capture.id)?notice=\(CaptureNotice.saved.rawValue)") }
                throw HTTPError.notFound("There is no capture \(capture.id). It may have been removed.")
            } catch let error as StoreError where error.isNameTaken {
                problems[.name] = Self.nameTaken(form.name)
            } catch let error as StoreError {
                guard let job = error.runningJob else { throw access.failure(error) }
                conflict = Self.runningJobRefusal(job)
            }
        }
        // Values as typed (never the token); the whole change is refused, so nothing was saved.
        let page = CaptureFormPage(
            edit: form, capture: capture, runningJobID: try runningJob(of: capture), problems: problems, conflict: conflict)
        return try formPage(page, title: "Edit \(capture.name)", request: request, status: conflict == nil ? 422 : 409)
    }

    static func runningJobRefusal(_ job: Int64) -> String {
        "Job \(job) is writing these collections right now, so they cannot be deleted yet and nothing was saved. "
            + "Wait for it to end (or cancel it) and save again, or keep the collections."
    }

    /// The capture's queued or running job, if it has one.
    private func runningJob(of capture: CaptureRecord) throws(HTTPError) -> Int64? {
        let latest = try access.read { try $0.jobs(JobFilter(captureID: capture.id, limit: 1)) }.first
        return latest.flatMap { $0.life.isActive ? $0.id : nil }
    }

    // MARK: Pause and resume

    func setPaused(_ paused: Bool, _ request: Request) async throws -> Response {
        let capture = try access.capture(request)
        if capture.schedule.paused != paused {
            let schedule = CaptureSchedule(everyMinutes: capture.schedule.everyMinutes, paused: paused)
            guard
                try access.read({
                    try $0.updateCapture(id: capture.id, CaptureChange(schedule: schedule), by: request.remoteUser)
                }) != nil
            else {
                throw HTTPError.notFound("There is no capture \(capture.id). It may have been removed.")
            }
        }
        let notice: CaptureNotice = paused ? .paused : .resumed
        return .redirect(to: "/captures/\(capture.id)?notice=\(notice.rawValue)")
    }

    // MARK: Deleting

    func deleteForm(_ request: Request) async throws -> Response {
        let capture = try access.capture(request)
        let asOf = try access.read { try $0.collectionsAsOf() }
        return try deletePage(DeleteCapturePage(capture: capture, asOf: asOf), request: request)
    }

    func delete(_ request: Request) async throws -> Response {
        let capture = try access.capture(request)
        let form = try request.form()
        let typed = (form["confirm_name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let choice = form["collections"].flatMap(CollectionChoice.init(rawValue:))
        var page = DeleteCapturePage(
            capture: capture, choice: choice, typed: typed,
            confirmError: typed == capture.name
                ? nil : "Type the capture's name, \(capture.name), exactly as it is written to delete it.",
            choiceError: choice == nil ? "Say whether to keep its collections or delete them." : nil)
        guard let choice, page.confirmError == nil else { return try deletePage(page, request: request, status: 422) }
        do {
            guard try access.store.deleteCapture(id: capture.id, collections: choice, by: request.remoteUser) else {
                throw HTTPError.notFound("There is no capture \(capture.id). It may have been removed.")
            }
        } catch let error as StoreError {
            guard let job = error.runningJob else { throw access.failure(error) }
            page = DeleteCapturePage(
                capture: capture, choice: choice, typed: typed, conflict: Self.runningJobRefusal(job))
            return try deletePage(page, request: request, status: 409)
        }
        let notice: CaptureNotice = choice == .delete ? .deletedCollections : .deleted
        return .redirect(to: "/captures?notice=\(notice.rawValue)")
    }

    private func deletePage(_ page: DeleteCapturePage, request: Request, status: Int = 200) throws -> Response {
        try site.page(
            "captures-delete", title: "Delete \(page.name)", section: .captures, model: page, request: request, status: status)
    }
}
