import Foundation
import Web

/// `/services`: the catalog of connector types, searchable and filtered by category without
/// JavaScript.
struct ServiceRoutes {
    let site: Site
    let directory: ConnectorDirectory
    let pages: RenderedContent

    func register(in router: inout Router) {
        router.get("/services") { request in try await catalogPage(request) }
    }

    func catalogPage(_ request: Request) async throws -> Response {
        try directory.requireConfigured()
        let catalog: Refreshed<Catalog>.Snapshot
        do { catalog = try await directory.catalog.current() } catch { throw error.pageError }
        let text = (request.query["q"] ?? "").trimmingCharacters(in: .whitespaces)
        let category = request.query["category"] ?? ""
        let content = try pages.bytes(for: "services|\(text)|\(category)", version: "\(catalog.version)") {
            try site.content("services", model: CatalogPage(catalog: catalog.value, text: text, category: category))
        }
        return try site.page(title: "Catalog", section: .services, content: content, request: request)
    }
}
