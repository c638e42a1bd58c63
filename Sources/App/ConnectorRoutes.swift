import Fivetran
import Foundation
import Web

/// The group's connectors: the list, the new-connector form, creating one and handing over
/// to Fivetran's Connect Card, and the way back.
struct ConnectorRoutes {
    let site: Site
    let directory: ConnectorDirectory
    let rendered: RenderedPages

    func register(in router: inout Router) {
        router.get("/connectors") { request in try list(request) }
        router.get("/connectors/new") { request in try newForm(request) }
        router.post("/connectors") { request in try create(request) }
        router.get("/connectors/{id}/setup") { request in try setup(request) }
        router.get("/connectors/{id}/return") { request in try comeBack(request) }
    }

    // MARK: The list

    func list(_ request: Request) throws -> Response {
        try directory.requireConfigured()
        let catalog = try fetch { try directory.catalog.get() }
        let connections = try fetch { try directory.connections.get() }
        let query = ListQuery(request.query)
        let key = "connectors|\(catalog.version)|\(connections.version)|\(query.key)|\(request.remoteUser ?? "")"
            + "|\(connections.refreshError == nil)"
        let bytes = try rendered.bytes(for: key) {
            let values = listValues(catalog: catalog, connections: connections, query: query)
            let response = try site.page("connectors", title: "Connectors", section: "connectors", values: values, request: request)
            guard case .bytes(let bytes) = response.body else { return [] }
            return bytes
        }
        return .html(bytes: bytes)
    }

    struct ListQuery {
        var sort: String
        var descending: Bool
        var state: String
        var text: String
        var setup: String?

        init(_ query: Parameters) {
            let sort = query["sort"] ?? "created"
            self.sort = ["name", "service", "schema", "created", "succeeded", "state"].contains(sort) ? sort : "created"
            descending = (query["dir"] ?? (self.sort == "created" || self.sort == "succeeded" ? "desc" : "asc")) == "desc"
            let state = query["state"] ?? ""
            self.state = ["connected", "incomplete", "broken"].contains(state) ? state : ""
            text = (query["q"] ?? "").trimmingCharacters(in: .whitespaces)
            setup = query["setup"]
        }

        var key: String { "\(sort)|\(descending)|\(state)|\(text)|\(setup ?? "")" }
    }

    private func listValues(
        catalog: RefreshingCache<Catalog>.Snapshot, connections: RefreshingCache<[ConnectorRow]>.Snapshot, query: ListQuery
    ) -> [String: Any] {
        let all = connections.value
        let needle = query.text.lowercased()
        var rows = all.filter { row in
            (query.state.isEmpty || row.connection.status.setupState == query.state)
                && (needle.isEmpty || row.name.lowercased().contains(needle) || row.connection.schema.lowercased().contains(needle)
                    || row.connection.service.lowercased().contains(needle)
                    || (catalog.value.byID[row.connection.service]?.name.lowercased().contains(needle) ?? false))
        }
        let serviceName = { (row: ConnectorRow) in catalog.value.byID[row.connection.service]?.name ?? row.connection.service }
        rows.sort { a, b in
            let ordered: Bool
            switch query.sort {
            case "name": ordered = a.name.localizedCaseInsensitiveCompare(b.name) == .orderedAscending
            case "service": ordered = serviceName(a).localizedCaseInsensitiveCompare(serviceName(b)) == .orderedAscending
            case "schema": ordered = a.connection.schema < b.connection.schema
            case "succeeded": ordered = (a.connection.succeededAt ?? .distantPast) < (b.connection.succeededAt ?? .distantPast)
            case "state": ordered = a.connection.status.setupState < b.connection.status.setupState
            default: ordered = (a.connection.createdAt ?? .distantPast) < (b.connection.createdAt ?? .distantPast)
            }
            return query.descending ? !ordered : ordered
        }
        var values: [String: Any] = [
            "rows": rows.map { row in rowValues(row, catalog: catalog.value) },
            "any": !all.isEmpty, "none_match": !all.isEmpty && rows.isEmpty,
            "total": all.count, "shown": rows.count,
            "connected": all.filter { $0.connection.status.setupState == "connected" }.count,
            "incomplete": all.filter { $0.connection.status.setupState == "incomplete" }.count,
            "broken": all.filter { $0.connection.status.setupState == "broken" }.count,
            "q": query.text, "fetched_at": clock(connections.fetchedAt),
            "state_all": query.state.isEmpty, "state_connected": query.state == "connected",
            "state_incomplete": query.state == "incomplete", "state_broken": query.state == "broken",
            "sort_links": sortLinks(query),
        ]
        if let error = connections.refreshError ?? catalog.refreshError {
            values["stale"] = "Could not refresh from Fivetran (\(describe(error))). Showing what was fetched at \(clock(connections.fetchedAt))."
        }
        if let id = query.setup {
            if let row = all.first(where: { $0.connection.id == id }) {
                if row.connection.status.isConnected {
                    values["notice_ok"] = "“\(row.name)” is set up: Fivetran will sync it on its schedule."
                } else {
                    values["notice_warn"] = "Setup of “\(row.name)” is not finished yet."
                    values["notice_continue"] = "/connectors/\(percentEncode(id))/setup"
                }
            } else {
                values["notice_warn"] = "Fivetran does not list the connector \(id) in this group."
            }
        }
        return values
    }

    private func rowValues(_ row: ConnectorRow, catalog: Catalog) -> [String: Any] {
        let connection = row.connection
        let type = catalog.byID[connection.service]
        var values: [String: Any] = [
            "id": connection.id, "name": row.name, "schema": connection.schema,
            "service": type?.name ?? connection.service, "service_id": connection.service,
            "setup": badge(setup: connection.status.setupState), "sync": badge(sync: connection.status.syncState),
            "paused": connection.paused && connection.status.syncState != "paused", "setup_url": "/connectors/\(percentEncode(connection.id))/setup",
            "created": day(connection.createdAt), "created_iso": iso(connection.createdAt),
            "created_full": minute(connection.createdAt),
            "succeeded": connection.succeededAt.map(day) ?? "never", "succeeded_iso": iso(connection.succeededAt),
            "succeeded_full": minute(connection.succeededAt),
            "needs_setup": !connection.status.isConnected,
        ]
        if let icon = Format.https(type?.iconURL) { values["icon"] = icon }
        return values
    }

    private func sortLinks(_ query: ListQuery) -> [String: Any] {
        var links: [String: Any] = [:]
        for column in ["name", "service", "schema", "created", "succeeded", "state"] {
            let descending = column == query.sort ? !query.descending : (column == "created" || column == "succeeded")
            var parts = ["sort=\(column)", "dir=\(descending ? "desc" : "asc")"]
            if !query.state.isEmpty { parts.append("state=\(query.state)") }
            if !query.text.isEmpty { parts.append("q=\(percentEncode(query.text))") }
            links[column] = "/connectors?" + parts.joined(separator: "&")
            links["\(column)_mark"] = column == query.sort ? (query.descending ? " ↓" : " ↑") : ""
        }
        return links
    }

    // MARK: Creating one

    func newForm(_ request: Request) throws -> Response {
        try directory.requireConfigured()
        guard let service = request.query["service"], !service.isEmpty else { return .redirect(to: "/services", status: 302) }
        let catalog = try fetch { try directory.catalog.get() }.value
        guard let type = catalog.byID[service] else {
            throw HTTPError.notFound("The catalog has no connector type “\(service)”. Pick one from the catalog.")
        }
        let name = request.query["name"] ?? ""
        return try formPage(type, values: ["display_name": name, "schema": SchemaName.suggest(from: name)], request: request)
    }

    func create(_ request: Request) throws -> Response {
        try directory.requireConfigured()
        let form = try request.form()
        let service = form["service"] ?? ""
        let displayName = (form["display_name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let schema = (form["schema"] ?? "").trimmingCharacters(in: .whitespaces)
        let catalog = try fetch { try directory.catalog.get() }.value
        guard let type = catalog.byID[service] else {
            throw HTTPError.unprocessable("The catalog has no connector type “\(service)”. Pick one from the catalog.")
        }
        var values: [String: Any] = ["display_name": displayName, "schema": schema]
        var invalid = false
        if displayName.isEmpty {
            values["display_name_error"] = "Give the connector a name people will recognise."
            invalid = true
        } else if displayName.count > 200 {
            values["display_name_error"] = "Keep the name to 200 characters or fewer."
            invalid = true
        }
        if let problem = SchemaName.problem(schema) {
            values["schema_error"] = problem
            invalid = true
        } else if let taken = try? directory.connections.get().value, taken.contains(where: { $0.schemaName == schema }) {
            values["schema_error"] = "Another connector in this group already uses the schema “\(schema)”. Choose another name."
            invalid = true
        }
        if invalid { return try formPage(type, values: values, request: request, status: 422) }

        do {
            let (_, card) = try directory.create(service: service, displayName: displayName, schema: schema, user: request.remoteUser)
            return .redirect(to: card.absoluteString, status: 303)
        } catch let error as FivetranError {
            if case .conflict = error {
                values["schema_error"] = "Fivetran already has a connector with the schema “\(schema)” in this group. Choose another name."
            } else {
                values["error"] = error.httpError.message
            }
            var response = try formPage(type, values: values, request: request, status: error.httpError.status)
            for (name, value) in error.httpError.headers { response.setHeader(name, value) }
            return response
        }
    }

    private func formPage(_ type: ConnectorType, values: [String: Any], request: Request, status: Int = 200) throws -> Response {
        var values = values
        values["service"] = type.id
        values["service_name"] = type.name
        if let description = type.description { values["service_description"] = description }
        if let icon = Format.https(type.iconURL) { values["service_icon"] = icon }
        if let docs = Format.https(type.linkToDocs) { values["service_docs"] = docs }
        if let category = type.type { values["service_category"] = category }
        values["schema_format"] = formatHint(SchemaFormats.bundled[type.id])
        return try site.page("connector-new", title: "New \(type.name) connector", section: "connectors", values: values,
            request: request, status: status)
    }

    private func formatHint(_ format: SchemaFormat?) -> String {
        switch format {
        case .schemaTable?: "Fivetran writes this connector into one table; the table takes the schema's name."
        case .schemaPrefix?: "Fivetran writes one schema per source schema, each starting with this name."
        case .schemaTableGroup?: "Fivetran writes this connector's tables into this schema, grouped under this name."
        default: "Fivetran writes this connector's tables into this schema."
        }
    }

    // MARK: The Connect Card and back

    func setup(_ request: Request) throws -> Response {
        try directory.requireConfigured()
        let id = request[parameter: "id"] ?? ""
        do {
            return .redirect(to: try directory.cardURL(for: id).absoluteString, status: 303)
        } catch {
            throw error.pageError
        }
    }

    func comeBack(_ request: Request) throws -> Response {
        try directory.requireConfigured()
        let id = request[parameter: "id"] ?? ""
        do {
            _ = try directory.connection(id: id)
        } catch {
            throw error.pageError
        }
        directory.connections.expire()
        return .redirect(to: "/connectors?setup=\(percentEncode(id))", status: 303)
    }

    /// A cache read whose Fivetran failure becomes the page that explains it.
    private func fetch<T>(_ read: () throws -> T) throws -> T {
        do {
            return try read()
        } catch {
            throw error.pageError
        }
    }
}

// MARK: Presentation helpers shared by the Fivetran pages

func badge(setup state: String) -> [String: String] {
    switch state {
    case "connected": ["class": "badge-ok", "label": "Connected"]
    case "incomplete": ["class": "badge-warn", "label": "Setup incomplete"]
    case "broken": ["class": "badge-bad", "label": "Broken"]
    default: ["class": "", "label": state]
    }
}

func badge(sync state: String) -> [String: String] {
    switch state {
    case "syncing": ["class": "badge-info", "label": "Syncing"]
    case "scheduled": ["class": "", "label": "Scheduled"]
    case "paused": ["class": "badge-warn", "label": "Paused"]
    case "rescheduled": ["class": "badge-warn", "label": "Rescheduled"]
    default: ["class": "", "label": state]
    }
}

func iso(_ date: Date?) -> String { date.map { $0.formatted(.iso8601) } ?? "" }

/// `2026-03-02`
func day(_ date: Date?) -> String { date.map { String($0.formatted(.iso8601).prefix(10)) } ?? "" }

/// `2026-03-02 14:05 UTC`
func minute(_ date: Date?) -> String {
    guard let date else { return "" }
    let text = date.formatted(.iso8601)
    return text.prefix(10) + " " + text.dropFirst(11).prefix(5) + " UTC"
}

func clock(_ date: Date) -> String { String(date.formatted(.iso8601).dropFirst(11).prefix(5)) + " UTC" }

func describe(_ error: any Error) -> String {
    (error as? FivetranError)?.description ?? String(describing: error)
}

extension Error {
    /// Any error from a Fivetran call as a page: Fivetran's own errors mapped, the rest passed on.
    var pageError: HTTPError {
        if let error = self as? HTTPError { return error }
        if let error = self as? FivetranError { return error.httpError }
        return HTTPError(status: 502, title: "Fivetran is not answering properly", message: String(describing: self))
    }
}
