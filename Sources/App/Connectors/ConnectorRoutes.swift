import Fivetran
import Foundation
import Web

/// The group's connectors: the list, the new-connector form, creating one and handing over
/// to Fivetran's Connect Card, and the way back.
struct ConnectorRoutes {
    let site: Site
    let directory: ConnectorDirectory
    let pages: RenderedContent

    func register(in router: inout Router) {
        router.get("/connectors") { request in try await list(request) }
        router.get("/connectors/new") { request in try await newForm(request) }
        router.post("/connectors") { request in try await create(request) }
        router.get("/connectors/{id}/setup") { request in try await setup(request) }
        router.get("/connectors/{id}/return") { request in try await comeBack(request) }
        registerDetail(in: &router)
    }

    // MARK: The list

    func list(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let catalog = try await fetch { try await directory.catalog.current() }
        let connections = try await fetch { try await directory.connections.current() }
        let query = ConnectorListQuery(request.query)
        let version =
            "\(catalog.version)|\(connections.version)|\(catalog.refreshError == nil)|\(connections.refreshError == nil)"
        let content = try pages.bytes(for: "connectors|" + query.key, version: version) {
            let model = ConnectorListPage(
                catalog: catalog.value, connections: connections, catalogError: catalog.refreshError, query: query)
            return try site.content("connectors", model: model)
        }
        return try site.page(title: "Connectors", section: .connectors, content: content, request: request)
    }

    // MARK: Creating one

    func newForm(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        guard let service = request.query["service"], !service.isEmpty else { return .redirect(to: "/services", status: 302) }
        let catalog = try await fetch { try await directory.catalog.current() }.value
        guard let type = catalog.byID[service] else {
            throw HTTPError.notFound("The catalog has no connector type “\(service)”. Pick one from the catalog.")
        }
        let name = request.query["name"] ?? ""
        return try formPage(
            NewConnectorPage(type: type, displayName: name, schema: SchemaName.suggest(from: name)), request: request)
    }

    func create(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let form = try request.form()
        let service = form["service"] ?? ""
        let catalog = try await fetch { try await directory.catalog.current() }.value
        guard let type = catalog.byID[service] else {
            throw HTTPError.unprocessable("The catalog has no connector type “\(service)”. Pick one from the catalog.")
        }
        var page = NewConnectorPage(
            type: type, displayName: (form["display_name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            schema: (form["schema"] ?? "").trimmingCharacters(in: .whitespaces))
        if page.displayName.isEmpty {
            page.displayNameError = "Give the connector a name people will recognise."
        } else if page.displayName.count > 200 {
            page.displayNameError = "Keep the name to 200 characters or fewer."
        }
        if let problem = SchemaName.problem(page.schema) {
            page.schemaError = problem
        } else if let taken = try? await directory.connections.current().value,
            taken.contains(where: { $0.schemaName == page.schema })
        {
            page.schemaError = "Another connector in this group already uses the schema “\(page.schema)”. Choose another name."
        }
        if page.invalid { return try formPage(page, request: request, status: 422) }

        do {
            let (_, card) = try await directory.create(
                service: service, displayName: page.displayName, schema: page.schema, user: request.remoteUser)
            return .redirect(to: card.absoluteString, status: 303)
        } catch let error as FivetranError {
            if case .conflict = error {
                page.schemaError =
                    "Fivetran already has a connector with the schema “\(page.schema)” in this group. Choose another name."
            } else {
                page.error = error.httpError.message
            }
            var response = try formPage(page, request: request, status: error.httpError.status)
            for (name, value) in error.httpError.headers { response.setHeader(name, value) }
            return response
        }
    }

    private func formPage(_ page: NewConnectorPage, request: Request, status: Int = 200) throws -> Response {
        try site.page(
            "connector-new", title: "New \(page.serviceName) connector", section: .connectors, model: page, request: request,
            status: status)
    }

    // MARK: The Connect Card and back

    func setup(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let id = request[parameter: "id"] ?? ""
        let card = try await fetch { try await directory.cardURL(for: id) }
        return .redirect(to: card.absoluteString, status: 303)
    }

    func comeBack(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let id = request[parameter: "id"] ?? ""
        _ = try await fetch { try await directory.connection(id: id) }
        await directory.refreshConnections()
        return .redirect(to: "/connectors?setup=\(percentEncode(id))", status: 303)
    }

    /// A Fivetran read whose failure becomes the page that explains it.
    private func fetch<T>(_ read: () async throws -> T) async throws -> T {
        do {
            return try await read()
        } catch {
            throw error.pageError
        }
    }
}

extension Error {
    /// Any error from a Fivetran call as a page: Fivetran's own errors mapped, the rest passed on.
    var pageError: HTTPError {
        if let error = self as? HTTPError { return error }
        if let error = self as? FivetranError { return error.httpError }
        return HTTPError(status: 502, title: "Fivetran is not answering properly", message: String(describing: self))
    }
}
