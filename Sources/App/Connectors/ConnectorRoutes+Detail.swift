import Fivetran
import Foundation
import Model
import Web

// `/connectors/{id}`: one connector's page and the forms that change it (sync now, pause,
// resume, sync frequency, delete after typing the schema), each answering 303 back with a
// notice, or the page again with Fivetran's refusal in words and what was chosen kept.
extension ConnectorRoutes {
    func registerDetail(in router: inout Router) {
        router.get("/connectors/{id}") { request in try await show(request) }
        router.post("/connectors/{id}/sync") { request in try await act(.sync, request) }
        router.post("/connectors/{id}/pause") { request in try await act(.pause, request) }
        router.post("/connectors/{id}/resume") { request in try await act(.resume, request) }
        router.post("/connectors/{id}/frequency") { request in try await changeFrequency(request) }
        router.get("/connectors/{id}/delete") { request in try await deleteForm(request) }
        router.post("/connectors/{id}/delete") { request in try await delete(request) }
    }

    func show(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let detail = try await load(request)
        return try detailPage(detail, request: request, notice: ConnectorNotice(request))
    }

    // MARK: Actions

    func act(_ change: ConnectorChange, _ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let detail = try await load(request)
        let connection = detail.row.connection
        if change == .sync, let refusal = ConnectorDetailPage.refusal(for: connection) {
            return back(to: connection.id, notice: refusal)
        }
        do {
            try await directory.perform(change, id: connection.id, actor: request.remoteUser)
        } catch let error as FivetranError {
            return try refused(error, detail: detail, request: request)
        }
        let notice: ConnectorNotice =
            switch change {
            case .sync: connection.status.setupState == "broken" ? .syncBroken : .synced
            case .pause: .paused
            case .resume: .resumed
            case .frequency, .settings: .frequency
            case .delete: .synced  // not reached: delete has its own form
            }
        return back(to: connection.id, notice: notice)
    }

    func changeFrequency(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let detail = try await load(request)
        let form = try request.form()
        guard let minutes = form["sync_frequency"].flatMap(Int.init), ConnectionSchedule.frequencies.contains(minutes) else {
            let allowed = ConnectionSchedule.frequencies.map(String.init).joined(separator: ", ")
            return try detailPage(
                detail, request: request,
                error: "Choose one of the sync frequencies listed (\(allowed) minutes); nothing was changed.", status: 422)
        }
        do {
            try await directory.perform(.frequency(minutes), id: detail.row.connection.id, actor: request.remoteUser)
        } catch let error as FivetranError {
            return try refused(error, detail: detail, request: request, chosenFrequency: minutes)
        }
        return back(to: detail.row.connection.id, notice: .frequency)
    }

    func deleteForm(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let detail = try await load(request)
        return try deletePage(DeleteConnectorPage(row: detail.row), request: request)
    }

    func delete(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let detail = try await load(request)
        let typed = (try request.form()["confirm_schema"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let schema = detail.row.connection.schema
        guard typed == schema else {
            let page = DeleteConnectorPage(
                row: detail.row, typed: typed,
                confirmError:
                    "Type the connector's schema, \(schema), exactly as it is written to delete it. Nothing was deleted.")
            return try deletePage(page, request: request, status: 422)
        }
        do {
            try await directory.perform(.delete, id: detail.row.connection.id, actor: request.remoteUser)
        } catch let error as FivetranError {
            if case .notFound = error { throw Self.gone(detail.row.connection.id, message: error.message) }
            let (status, words, headers) = Self.words(error)
            var response = try deletePage(
                DeleteConnectorPage(row: detail.row, typed: typed, error: words), request: request, status: status)
            for (name, value) in headers { response.setHeader(name, value) }
            return response
        }
        return .redirect(to: "/connectors?deleted=\(percentEncode(schema))", status: 303)
    }

    // MARK: Answering

    /// The connector the path names, or the page that says it is gone (404) or why Fivetran
    /// could not be asked.
    private func load(_ request: Request) async throws -> ConnectorDetail {
        let id = request[parameter: "id"] ?? ""
        do {
            return try await directory.detail(id: id)
        } catch let gone as ConnectorGone {
            throw Self.gone(gone.id, message: gone.message)
        } catch {
            throw error.pageError
        }
    }

    static func gone(_ id: String, message: String?) -> HTTPError {
        HTTPError(
            status: 404, title: "This connector is gone",
            message: "Fivetran has no connector “\(id)” in this group any more: it was deleted, perhaps in Fivetran's dashboard."
                + (message.map { " Fivetran said: \($0)" } ?? ""))
    }

    private func back(to id: String, notice: ConnectorNotice) -> Response {
        .redirect(to: "/connectors/\(percentEncode(id))?notice=\(notice.rawValue)", status: 303)
    }

    /// The page again with Fivetran's refusal in words (404: the gone page).
    private func refused(
        _ error: FivetranError, detail: ConnectorDetail, request: Request, chosenFrequency: Int? = nil
    ) throws -> Response {
        if case .notFound = error { throw Self.gone(detail.row.connection.id, message: error.message) }
        let (status, words, headers) = Self.words(error)
        var response = try detailPage(detail, request: request, error: words, status: status, chosenFrequency: chosenFrequency)
        for (name, value) in headers { response.setHeader(name, value) }
        return response
    }

    /// Fivetran's refusal of an action as the page says it: the status to answer, the words, headers.
    static func words(_ error: FivetranError) -> (Int, String, [String: String]) {
        let said = error.message.map { " Fivetran said: “\($0)”" } ?? ""
        switch error {
        case .conflict:
            return (409, "Fivetran refused this in the connector's current state (409).\(said)", [:])
        case .badRequest:
            return (422, "Fivetran refused the value (400).\(said)", [:])
        case .rateLimited(let retryAfter, _):
            let seconds = retryAfter.map { Int($0.components.seconds) }
            let wait = seconds.map { "Try again in \($0) seconds." } ?? "Try again in a minute."
            return (
                429, "Fivetran's rate limit is reached, so nothing was changed. \(wait)",
                seconds.map { ["Retry-After": "\($0)"] } ?? [:]
            )
        case .notFound:
            return (404, "Fivetran has no such connector any more.\(said)", [:])
        default:
            let page = error.httpError
            return (page.status, "\(page.title): \(page.message)", page.headers)
        }
    }

    private func detailPage(
        _ detail: ConnectorDetail, request: Request, notice: ConnectorNotice? = nil, error: String? = nil, status: Int = 200,
        chosenFrequency: Int? = nil
    ) throws -> Response {
        let id = detail.row.connection.id
        let catalog = directory.catalog.peek()
        let createdBy = directory.auditEntries(of: id, action: .connectorCreated, limit: 1).first?.actor
        let page = ConnectorDetailPage(
            detail: detail, catalog: catalog, audit: directory.auditEntries(of: id), createdBy: createdBy, notice: notice,
            error: error, chosenFrequency: chosenFrequency)
        return try site.page(
            "connector-show", title: detail.row.name, section: .connectors, model: page, request: request, status: status)
    }

    private func deletePage(_ page: DeleteConnectorPage, request: Request, status: Int = 200) throws -> Response {
        try site.page(
            "connector-delete", title: "Delete \(page.name)", section: .connectors, model: page, request: request,
            status: status)
    }
}
