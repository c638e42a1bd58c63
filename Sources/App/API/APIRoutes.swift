import Crypto
import Foundation
import Store
import Web

/// JSON for scripts behind a bearer token (`/api/…`), and the open `/metrics`.
struct APIRoutes {
    let context: CaptureContext

    func register(in router: inout Router) {
        router.get("/api/jobs") { [context] request in
            _ = try Self.authenticate(context, request)
            return try Self.list(context, request)
        }
        router.get("/api/jobs/{id}") { [context] request in
            _ = try Self.authenticate(context, request)
            let job = try context.job(request)
            let name = try? context.store.capture(id: job.captureID)?.name
            return jsonWithETag(JobJSON(job, captureName: name), request: request)
        }
        router.post("/api/captures/{id}/jobs") { [context] request in
            let caller = try Self.authenticate(context, request)
            let capture = try context.capture(request)
            switch try context.enqueue(capture, requestedBy: request.remoteUser ?? "api:\(caller)") {
            case .queued(let job):
                var response = Response.json(JobJSON(job, captureName: capture.name), status: 201)
                response.setHeader("Location", "/api/jobs/\(job.id)")
                return response
            case .alreadyActive(let job):
                return .json(
                    Conflict(
                        error: .init(
                            status: "409", title: "Already running",
                            message: "Capture \(capture.id) already has job \(job.id) \(job.life.state.rawValue); poll it instead of starting another.",
                            request_id: request.requestID),
                        job: JobJSON(job, captureName: capture.name)),
                    status: 409)
            }
        }
        router.get("/metrics") { [context] _ in
            try Self.metrics(context)
        }
    }

    /// The caller's name: an environment token (`SWITCHBOARD_API_TOKENS`) or one made on /settings.
    static func authenticate(_ context: CaptureContext, _ request: Request) throws(HTTPError) -> String {
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") else {
            throw unauthorized("Send an API token as Authorization: Bearer <token>. Create one on /settings.")
        }
        let address = request.remoteAddress ?? "-"
        if let wait = context.authFailures.retryAfter(address) {
            throw HTTPError(
                status: 429, title: "Too many failed token checks",
                message: "Too many unknown API tokens came from this address. Wait \(wait) seconds, then use a valid token.",
                headers: ["Retry-After": "\(wait)"])
        }
        let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        let presented = Array(token.utf8)
        for (index, known) in context.configuration.apiTokens.enumerated() where constantTimeEqual(Array(known.utf8), presented) {
            return "env-\(index + 1)"
        }
        let record: APITokenRecord?
        do { record = try context.store.useAPIToken(sha256: sha256Hex(token)) } catch { throw context.storeFailure(error) }
        guard let record else {
            context.authFailures.failed(address)
            throw unauthorized("This API token is unknown or was revoked. Create a new one on /settings.")
        }
        return record.name
    }

    /// Pages past this are refused (400): no job list is that long, and the offset stays small.
    static let lastPage = 1_000_000

    private static func unauthorized(_ message: String) -> HTTPError {
        HTTPError(status: 401, title: "Unauthorized", message: message, headers: ["WWW-Authenticate": "Bearer realm=\"switchboard\""])
    }

    private static func list(_ context: CaptureContext, _ request: Request) throws -> Response {
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
        let jobs: [JobRecord]
        let names: [Int64: String]
        do {
            jobs = try context.store.jobs(filter)
            names = Dictionary(try context.store.captures().map { ($0.id, $0.name) }, uniquingKeysWith: { $1 })
        } catch {
            throw context.storeFailure(error)
        }
        var next: String?
        if jobs.count > perPage {
            var query = request.query.pairs.filter { $0.name != "page" }
            query.append(("page", "\(page + 1)"))
            next = "/api/jobs?" + query.map { "\(percentEncode($0.name))=\(percentEncode($0.value))" }.joined(separator: "&")
        }
        let body = JobList(
            jobs: jobs.prefix(perPage).map { JobJSON($0, captureName: names[$0.captureID]) }, page: page, per_page: perPage,
            next: next)
        return jsonWithETag(body, request: request)
    }

    private static func metrics(_ context: CaptureContext) throws -> Response {
        let counts: [JobState: Int]
        do { counts = try context.store.jobCounts() } catch { throw context.storeFailure(error) }
        let text = context.metrics.text(jobCounts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }))
        var response = Response.text(text)
        response.setHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        return response
    }

    struct JobList: Encodable {
        let jobs: [JobJSON]
        let page: Int
        let per_page: Int
        let next: String?

        enum CodingKeys: String, CodingKey { case jobs, page, per_page, next }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(jobs, forKey: .jobs)
            try c.encode(page, forKey: .page)
            try c.encode(per_page, forKey: .per_page)
            try c.encode(next as String?, forKey: .next)
        }
    }

    struct Conflict: Encodable {
        struct Detail: Encodable {
            let status: String
            let title: String
            let message: String
            let request_id: String
        }
        let error: Detail
        let job: JobJSON
    }
}

func sha256Hex(_ text: String) -> String {
    SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}
