import Foundation
import Model
import Store

/// A job as scripts (and the job page's own polling) see it. Timestamps RFC 3339 UTC.
struct JobJSON: Encodable {
    struct Binding: Encodable {
        let name: String
        let resource: String
        let pages: Int
        let documents: Int
        let deleted: Int
        let requests: Int
        let done: Bool
        let state: String
        /// Where the binding has read up to, RFC 3339 (the same instant as `position_ms`); the
        /// job page shows it.
        let cursor: String?
        let position_ms: Int64?
        let fraction: Double?
        let error: String?
    }

    let id: Int64
    let capture: Int64
    let capture_name: String?
    let state: String
    let created_at: String
    let started_at: String?
    let finished_at: String?
    let error: String?
    let cancel_requested: Bool
    let requested_by: String?
    let attempts: Int
    let requests: Int
    let elapsed_seconds: Int?
    let bindings: [Binding]
    let url: String

    init(_ job: JobRecord, captureName: String?, now: Date = Date()) {
        id = job.id
        capture = job.captureID
        capture_name = captureName
        state = job.life.state.rawValue
        created_at = Format.rfc3339(job.life.createdAt) ?? ""
        started_at = Format.rfc3339(job.life.startedAt)
        finished_at = Format.rfc3339(job.life.finishedAt)
        error = job.life.error
        cancel_requested = job.life.cancelRequested
        requested_by = job.requestedBy
        attempts = job.life.attempts
        requests = job.requests
        elapsed_seconds = job.life.elapsedSeconds(at: now)
        bindings = job.bindings.map {
            Binding(
                name: $0.name, resource: $0.resource, pages: $0.pages, documents: $0.documents, deleted: $0.deleted,
                requests: $0.requests, done: $0.done, state: $0.state.rawValue, cursor: Format.rfc3339($0.positionDate),
                position_ms: $0.position, fraction: $0.fraction, error: $0.error)
        }
        url = "/jobs/\(job.id)"
    }
}

// Absent values are written as `null` (not left out), so every key is always there for scripts.
extension JobJSON {
    enum CodingKeys: String, CodingKey {
        case id, capture, capture_name, state, created_at, started_at, finished_at, error, cancel_requested,
            requested_by, attempts, requests, elapsed_seconds, bindings, url
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(capture, forKey: .capture)
        try c.encode(capture_name as String?, forKey: .capture_name)
        try c.encode(state, forKey: .state)
        try c.encode(created_at, forKey: .created_at)
        try c.encode(started_at as String?, forKey: .started_at)
        try c.encode(finished_at as String?, forKey: .finished_at)
        try c.encode(error as String?, forKey: .error)
        try c.encode(cancel_requested, forKey: .cancel_requested)
        try c.encode(requested_by as String?, forKey: .requested_by)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(requests, forKey: .requests)
        try c.encode(elapsed_seconds as Int?, forKey: .elapsed_seconds)
        try c.encode(bindings, forKey: .bindings)
        try c.encode(url, forKey: .url)
    }
}

extension JobJSON.Binding {
    enum CodingKeys: String, CodingKey {
        case name, resource, pages, documents, deleted, requests, done, state, cursor, position_ms, fraction, error
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(resource, forKey: .resource)
        try c.encode(pages, forKey: .pages)
        try c.encode(documents, forKey: .documents)
        try c.encode(deleted, forKey: .deleted)
        try c.encode(requests, forKey: .requests)
        try c.encode(done, forKey: .done)
        try c.encode(state, forKey: .state)
        try c.encode(cursor as String?, forKey: .cursor)
        try c.encode(position_ms as Int64?, forKey: .position_ms)
        try c.encode(fraction as Double?, forKey: .fraction)
        try c.encode(error as String?, forKey: .error)
    }
}
