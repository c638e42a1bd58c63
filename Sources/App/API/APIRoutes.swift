import Foundation
import Jobs
import Model
import Store
import Web

/// JSON for scripts behind a bearer token (`/api/…`), and the open `/metrics`.
struct APIRoutes {
    let access: StoreAccess
    let authentication: BearerAuthentication
    let metrics: WorkerMetrics
    /// Seals the Front token of a capture made or changed through the API.
    let box: SecretBox
    /// The Fivetran group's connectors, for `/api/connectors…`.
    let directory: ConnectorDirectory

    /// Pages past this are refused (400): no job list is that long, and the offset stays small.
    static let lastPage = 1_000_000

    func register(in router: inout Router) {
        router.get("/api/openapi.json") { request in try await openAPI(request) }
        router.get("/api/jobs") { request in try await list(request) }
        router.get("/api/jobs/{id}") { request in try await job(request) }
        router.post("/api/captures/{id}/jobs") { request in try await startJob(request) }
        registerCaptures(in: &router)
        registerConnectors(in: &router)
        router.get("/metrics") { _ in try await metricsText() }
    }

    func job(_ request: Request) async throws -> Response {
        _ = try authentication.caller(request)
        let job = try access.job(request)
        let name = try? access.store.capture(id: job.captureID)?.name
        return .jsonWithETag(JobJSON(job, captureName: name), request: request)
    }

    func startJob(_ request: Request) async throws -> Response {
        let actor = try authentication.actor(request)
        let capture = try access.capture(request)
        switch try access.enqueue(capture, requestedBy: actor) {
        case .queued(let job):
            var response = Response.json(JobJSON(job, captureName: capture.name), status: 201)
            response.setHeader("Location", "/api/jobs/\(job.id)")
            return response
        case .alreadyActive(let job):
            return .json(
                Conflict(
                    error: .init(
                        status: "409", title: "Already running",
                        message:
                            "Capture \(capture.id) already has job \(job.id) \(job.life.state.rawValue); poll it instead of starting another.",
                        request_id: request.requestID),
                    job: JobJSON(job, captureName: capture.name)),
                status: 409)
        }
    }

    func list(_ request: Request) async throws -> Response {
        _ = try authentication.caller(request)
        var filter = JobFilter()
        if let capture = request.query["capture"], !capture.isEmpty {
            guard let id = Int64(capture) else { throw HTTPError.badRequest("capture must be a capture id (a number).") }
            filter.captureID = id
        }
        for value in request.query.all("state").flatMap({ $0.split(separator: ",") }) {
            guard let state = JobState(rawValue: String(value)) else {
                throw HTTPError.badRequest(
                    "state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")); got \(value).")
            }
            filter.states.append(state)
        }
        let perPage = try request.query.integer("per_page", in: 1...100, default: 20)
        let page = try request.query.integer("page", in: 1...Self.lastPage, default: 1)
        filter.limit = perPage + 1
        filter.offset = (page - 1) * perPage  // at most 100 × 1,000,000: no overflow
        let (jobs, captures) = try access.read { [filter] store in (try store.jobs(filter), try store.captures()) }
        let names = Dictionary(captures.map { ($0.id, $0.name) }, uniquingKeysWith: { $1 })
        var next: String?
        if jobs.count > perPage {
            var query = request.query.pairs.filter { $0.name != "page" }
            query.append(("page", "\(page + 1)"))
            next = "/api/jobs?" + query.map { "\(percentEncode($0.name))=\(percentEncode($0.value))" }.joined(separator: "&")
        }
        let body = JobList(
            jobs: jobs.prefix(perPage).map { JobJSON($0, captureName: names[$0.captureID]) }, page: page, per_page: perPage,
            next: next)
        return .jsonWithETag(body, request: request)
    }

    /// `/metrics`, in Prometheus's text format: no token (nginx lets only loopback reach it).
    /// Each capture's freshness is written from the store at each scrape (not kept in the
    /// registry, so a deleted capture's series ends with it).
    func metricsText() async throws -> Response {
        let (counts, captures, successes) = try access.read { store in
            (try store.jobCounts(), try store.captures(), try store.lastSuccesses())
        }
        var text = metrics.text(jobCounts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }))
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += CaptureFreshness(captures: captures, lastSuccesses: successes, now: Date()).text
        var response = Response.text(text)
        response.setHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        return response
    }
}
