import Fivetran
import Foundation
import Model
import Web

// `/api/connectors…`: the group's connectors for scripts, read from the kept list (ETag/304),
// and the same changes as the connector page (sync, pause/resume and frequency, delete), each
// recorded in the audit as `api:<token name>` once Fivetran answered.
extension APIRoutes {
    func registerConnectors(in router: inout Router) {
        router.get("/api/connectors") { request in try await connectors(request) }
        router.get("/api/connectors/{id}") { request in try await connector(request) }
        router.post("/api/connectors/{id}/sync") { request in try await syncConnector(request) }
        router.add("PATCH", "/api/connectors/{id}") { request in try await changeConnector(request) }
        router.add("DELETE", "/api/connectors/{id}") { request in try await deleteConnector(request) }
    }

    func connectors(_ request: Request) async throws -> Response {
        _ = try authentication.caller(request)
        try directory.requireConfigured()
        let snapshot: Refreshed<[ConnectorRow]>.Snapshot
        do { snapshot = try await directory.connections.current() } catch { throw Self.apiError(error) }
        return .jsonWithETag(ConnectorList(connectors: snapshot.value.map { ConnectorJSON($0, alerts: false) }), request: request)
    }

    func connector(_ request: Request) async throws -> Response {
        _ = try authentication.caller(request)
        try directory.requireConfigured()
        let detail = try await loadConnector(request)
        return .jsonWithETag(ConnectorJSON(detail.row, alerts: true), request: request)
    }

    func syncConnector(_ request: Request) async throws -> Response {
        let caller = try authentication.caller(request)
        try directory.requireConfigured()
        let detail = try await loadConnector(request)
        let id = detail.row.connection.id
        if let refusal = ConnectorDetailPage.refusal(for: detail.row.connection) {
            throw HTTPError.conflict(refusal.text(frequency: nil))
        }
        try await perform(.sync, id: id, caller: caller, request: request)
        let after = (try? await directory.detail(id: id)) ?? detail
        return .json(ConnectorJSON(after.row, alerts: true), status: 202)
    }

    func changeConnector(_ request: Request) async throws -> Response {
        let caller = try authentication.caller(request)
        try directory.requireConfigured()
        let paused: Bool?
        let frequency: Int?
        switch try Self.connectorChange(request) {
        case .success(let change): (paused, frequency) = change
        case .failure(let refusal):
            let names = refusal.fields.keys.sorted().joined(separator: ", ")
            return .json(
                FieldErrors(
                    status: 422, title: "Cannot accept this",
                    message: "Some fields cannot be accepted (\(names)); \"fields\" says what is wrong with each.",
                    requestID: request.requestID, fields: refusal.fields),
                status: 422)
        }
        let detail = try await loadConnector(request)
        let id = detail.row.connection.id
        try await perform(.settings(paused: paused, frequency: frequency), id: id, caller: caller, request: request)
        let after = (try? await directory.detail(id: id)) ?? detail
        return .json(ConnectorJSON(after.row, alerts: true))
    }

    func deleteConnector(_ request: Request) async throws -> Response {
        let caller = try authentication.caller(request)
        try directory.requireConfigured()
        let detail = try await loadConnector(request)
        try await perform(.delete, id: detail.row.connection.id, caller: caller, request: request)
        return Response(status: 204)
    }

    // MARK: Plumbing

    private func loadConnector(_ request: Request) async throws -> ConnectorDetail {
        let id = request[parameter: "id"] ?? ""
        do {
            return try await directory.detail(id: id)
        } catch let gone as ConnectorGone {
            throw HTTPError.notFound("There is no connector “\(gone.id)” in this Fivetran group.")
        } catch {
            throw Self.apiError(error)
        }
    }

    private func perform(_ change: ConnectorChange, id: String, caller: String, request: Request) async throws {
        do {
            try await directory.perform(change, id: id, actor: request.remoteUser ?? "api:\(caller)")
        } catch {
            throw Self.apiError(error)
        }
    }

    /// Fivetran's failure as the API answers it: 404, 409 and 429 (with `Retry-After`) as they
    /// came, a refused value as 422, anything else Fivetran did wrong as 502.
    static func apiError(_ error: any Error) -> HTTPError {
        guard let error = error as? FivetranError else { return error.pageError }
        let said = error.message.map { "Fivetran said: \($0)" } ?? ""
        switch error {
        case .notFound:
            return HTTPError(status: 404, title: "Not found", message: "Fivetran has no such connector. \(said)")
        case .conflict:
            return HTTPError(status: 409, title: "Conflict", message: "Fivetran refused this in the connector's state. \(said)")
        case .badRequest:
            return HTTPError(status: 422, title: "Cannot accept this", message: "Fivetran refused the value. \(said)")
        case .rateLimited(let retryAfter, _):
            let seconds = retryAfter.map { Int($0.components.seconds) } ?? 60
            return HTTPError(
                status: 429, title: "Fivetran's rate limit",
                message: "Fivetran's rate limit is reached; nothing was changed. Try again in \(seconds) seconds.",
                headers: ["Retry-After": "\(seconds)"])
        default:
            return HTTPError(status: 502, title: "Fivetran failed", message: error.description)
        }
    }

    /// The PATCH body: `paused` (true/false) and/or `sync_frequency` (one of the allowed
    /// minutes); anything else, or a bad value, is 422 naming the field.
    struct FieldRefusal: Error {
        let fields: [String: String]
    }

    static func connectorChange(_ request: Request) throws(HTTPError) -> Result<(paused: Bool?, frequency: Int?), FieldRefusal> {
        if let type = request.mediaType, type != "application/json", !type.hasSuffix("+json") {
            throw .unsupportedMediaType("Send the change as JSON, with Content-Type: application/json.")
        }
        guard !request.body.isEmpty, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(request.body)),
            case .object(let object) = value
        else {
            throw .badRequest("The body must be a JSON object such as {\"paused\": true} or {\"sync_frequency\": 60}.")
        }
        var paused: Bool?
        var frequency: Int?
        var problems: [String: String] = [:]
        let allowed = ConnectionSchedule.frequencies.map(String.init).joined(separator: ", ")
        for (key, value) in object {
            switch (key, value) {
            case ("paused", .bool(let flag)): paused = flag
            case ("paused", _): problems[key] = "paused must be true or false."
            case ("sync_frequency", .int(let minutes)) where ConnectionSchedule.frequencies.contains(minutes):
                frequency = minutes
            case ("sync_frequency", _): problems[key] = "sync_frequency must be one of \(allowed) (minutes)."
            default: problems[key] = "Unknown field. The fields are paused and sync_frequency."
            }
        }
        if problems.isEmpty, paused == nil, frequency == nil {
            problems["paused"] = "Send paused and/or sync_frequency."
        }
        guard problems.isEmpty else { return .failure(FieldRefusal(fields: problems)) }
        return .success((paused, frequency))
    }

    /// `{"connectors": [...]}`
    struct ConnectorList: Encodable {
        let connectors: [ConnectorJSON]
    }
}

/// A connector as scripts read it; `tasks` and `warnings` on the single connector only.
struct ConnectorJSON: Encodable {
    struct Alert: Encodable {
        let code: String
        let message: String
        let details: String?

        enum CodingKeys: String, CodingKey { case code, message, details }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(code, forKey: .code)
            try c.encode(message, forKey: .message)
            try c.encode(details, forKey: .details)
        }
    }

    let id: String
    let service: String
    let schema: String
    let displayName: String
    let setupState: String
    let syncState: String
    let paused: Bool
    let syncFrequency: Int?
    let succeededAt: String?
    let failedAt: String?
    let tasks: [Alert]?
    let warnings: [Alert]?

    init(_ row: ConnectorRow, alerts: Bool) {
        let connection = row.connection
        id = connection.id
        service = connection.service
        schema = connection.schema
        displayName = row.name
        setupState = connection.status.setupState
        syncState = connection.status.syncState
        paused = connection.paused
        syncFrequency = connection.syncFrequency
        succeededAt = Format.rfc3339(connection.succeededAt)
        failedAt = Format.rfc3339(connection.failedAt)
        let convert = { (alert: ConnectionAlert) in Alert(code: alert.code, message: alert.message, details: alert.details) }
        tasks = alerts ? connection.status.tasks.map(convert) : nil
        warnings = alerts ? connection.status.warnings.map(convert) : nil
    }

    enum CodingKeys: String, CodingKey {
        case id, service, schema, display_name, setup_state, sync_state, paused, sync_frequency, succeeded_at, failed_at, tasks,
            warnings
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(service, forKey: .service)
        try c.encode(schema, forKey: .schema)
        try c.encode(displayName, forKey: .display_name)
        try c.encode(setupState, forKey: .setup_state)
        try c.encode(syncState, forKey: .sync_state)
        try c.encode(paused, forKey: .paused)
        try c.encode(syncFrequency, forKey: .sync_frequency)
        try c.encode(succeededAt, forKey: .succeeded_at)
        try c.encode(failedAt, forKey: .failed_at)
        if let tasks { try c.encode(tasks, forKey: .tasks) }
        if let warnings { try c.encode(warnings, forKey: .warnings) }
    }
}
