import Capture
import Foundation
import Jobs
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

    func newForm(_ request: Request) async throws -> Response {
        try site.page("captures-new", title: "New capture", section: "captures", values: CaptureForm.blank.values, request: request)
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

    func list(_ request: Request) async throws -> Response {
        let (captures, latest) = try access.read { store in (try store.captures(), try store.latestJobs()) }
        let rows: [[String: Any]] = captures.map { capture in
            var row: [String: Any] = [
                "id": capture.id, "name": capture.name,
                "bindings": capture.resources.map { ["name": capture.collection(for: $0), "resource": $0,
                                                     "href": Format.collectionPath(capture.collection(for: $0))] },
            ]
            if let job = latest[capture.id] {
                let when = job.life.finishedAt ?? job.life.startedAt ?? job.life.createdAt
                row["job"] = [
                    "id": job.id, "state": job.life.state.rawValue, "badge": Format.badge(job.life.state),
                    "active": job.life.isActive, "when": Format.ago(when), "when_iso": Format.rfc3339(when) ?? "",
                ]
            }
            return row
        }
        return try site.page(
            "captures", title: "Captures", section: "captures",
            values: ["captures": rows, "has_captures": !rows.isEmpty], request: request)
    }

    func show(_ request: Request) async throws -> Response {
        let capture = try access.capture(request)
        let jobs = try access.read { try $0.jobs(JobFilter(captureID: capture.id, limit: 20)) }
        let facts: [String: Any] = [
            "id": capture.id, "name": capture.name, "token_hint": capture.tokenHint,
            "start_date": Format.rfc3339(capture.startDate) ?? "the beginning",
            "created": Format.rfc3339(capture.createdAt) ?? "", 
            "bindings": capture.resources.map { ["name": capture.collection(for: $0), "resource": $0,
                                                 "href": Format.collectionPath(capture.collection(for: $0))] },
            "jobs": jobs.map(JobRoutes.summaryRow), "has_jobs": !jobs.isEmpty,
        ]
        var values = facts
        if let by = capture.createdBy, !by.isEmpty { values["created_by"] = by }
        return try site.page("captures-show", title: capture.name, section: "captures", values: values, request: request)
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
                problems["name"] =
                    "A capture named like this (collections \(form.prefix)/…) already exists. Choose another name."
            } catch let error as StoreError {
                throw access.failure(error)
            }
        }
        form.token = ""  // never echoed back
        var values = form.values
        for (field, problem) in problems { values["\(field)_error"] = problem }
        values["has_errors"] = true
        return try site.page(
            "captures-new", title: "New capture", section: "captures", values: values, request: request, status: 422)
    }
}

/// The new-capture form: its fields as typed, and the rules they must meet.
struct CaptureForm {
    var name: String
    var token: String
    var startText: String
    var resources: Set<String>
    private(set) var startDate: Date?

    static let blank = CaptureForm(name: "", token: "", startText: "", resources: Set(FrontResource.allCases.map(\.rawValue)))

    init(name: String, token: String, startText: String, resources: Set<String>) {
        self.name = name
        self.token = token
        self.startText = startText
        self.resources = resources
    }

    init(_ form: Parameters) {
        self.init(
            name: (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            token: (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            startText: (form["start_date"] ?? "").trimmingCharacters(in: .whitespaces),
            resources: Set(form.all("resources")))
    }

    /// The collections' prefix: the name in lower case, runs of other characters as `-`.
    var prefix: String {
        var out = ""
        for scalar in name.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty && !out.hasSuffix("-") {
                out += "-"
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return String(out.prefix(60))
    }

    /// field → what is wrong with it; empty when the form can be saved.
    mutating func validate() -> [String: String] {
        var problems: [String: String] = [:]
        if name.isEmpty {
            problems["name"] = "Give the capture a name, such as your Front company's."
        } else if name.count > 100 {
            problems["name"] = "Keep the name to 100 characters or fewer."
        } else if prefix.isEmpty {
            problems["name"] = "Use at least one letter or digit in the name: it names the collections."
        }
        if token.isEmpty {
            problems["token"] = "Paste a Front API token (Front → Settings → Developers → API tokens)."
        } else if token.count < 8 || token.contains(where: \.isWhitespace) {
            problems["token"] = "This does not look like a Front API token: it should be one long word with no spaces."
        }
        if !startText.isEmpty {
            if let date = Self.parseStart(startText) {
                startDate = date
            } else {
                problems["start_date"] = "Write the start date as YYYY-MM-DDTHH:MM:SSZ (UTC), such as 2024-11-15T00:00:00Z, or leave it empty."
            }
        }
        let known = Set(FrontResource.allCases.map(\.rawValue))
        if resources.isEmpty {
            problems["resources"] = "Tick at least one resource to copy."
        } else if !resources.isSubset(of: known) {
            problems["resources"] = "Unknown resource: \(resources.subtracting(known).sorted().joined(separator: ", "))."
        }
        return problems
    }

    /// The connector's `YYYY-MM-DDTHH:MM:SSZ`, or what a `datetime-local` field sends
    /// (`YYYY-MM-DDTHH:MM[:SS]`, taken as UTC).
    static func parseStart(_ text: String) -> Date? {
        if let date = CaptureConfig.parseStartDate(text) { return date }
        if text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/#) != nil { return CaptureConfig.parseStartDate(text + ":00Z") }
        if text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/#) != nil { return CaptureConfig.parseStartDate(text + "Z") }
        return nil
    }

    var values: [String: Any] {
        [
            "name": name, "start_date": startText,
            "resources": FrontResource.allCases.map { resource in
                [
                    "value": resource.rawValue, "checked": resources.contains(resource.rawValue),
                    "kind": resource.isSnapshot ? "whole list each run" : "incremental",
                ] as [String: Any]
            },
        ]
    }
}
