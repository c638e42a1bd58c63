import Fivetran
import Foundation
import Web

/// `/services`: the catalog of connector types, searchable and filtered by category without
/// JavaScript.
struct ServiceRoutes {
    let site: Site
    let directory: ConnectorDirectory
    let rendered: RenderedPages

    func register(in router: inout Router) {
        router.get("/services") { request in try catalogPage(request) }
    }

    func catalogPage(_ request: Request) throws -> Response {
        try directory.requireConfigured()
        let catalog: RefreshingCache<Catalog>.Snapshot
        do { catalog = try directory.catalog.get() } catch { throw error.pageError }
        let text = (request.query["q"] ?? "").trimmingCharacters(in: .whitespaces)
        let category = request.query["category"] ?? ""
        let key = "services|\(catalog.version)|\(text)|\(category)|\(request.remoteUser ?? "")"
        let bytes = try rendered.bytes(for: key) {
            let needle = text.lowercased()
            let types = catalog.value.types.filter { type in
                (category.isEmpty || type.type == category)
                    && (needle.isEmpty || type.name.lowercased().contains(needle) || type.id.contains(needle)
                        || (type.description?.lowercased().contains(needle) ?? false))
            }
            let values: [String: Any] = [
                "types": types.map(tile), "shown": types.count, "total": catalog.value.types.count, "q": text,
                "none_match": types.isEmpty,
                "categories": catalog.value.categories.map { ["name": $0, "selected": $0 == category] },
            ]
            let response = try site.page("services", title: "Catalog", section: "services", values: values, request: request)
            guard case .bytes(let bytes) = response.body else { return [] }
            return bytes
        }
        return .html(bytes: bytes)
    }

    private func tile(_ type: ConnectorType) -> [String: Any] {
        var values: [String: Any] = [
            "id": type.id, "name": type.name, "category": type.type ?? "",
            "new_url": "/connectors/new?service=\(percentEncode(type.id))",
        ]
        if let description = type.description {
            values["description"] = description.count > 180 ? String(description.prefix(177)) + "…" : description
        }
        if let icon = Format.https(type.iconURL) { values["icon"] = icon }
        if let docs = Format.https(type.linkToDocs) { values["docs"] = docs }
        if let status = type.serviceStatus, status != "general_availability" {
            values["status"] = status.replacingOccurrences(of: "_", with: " ")
        }
        return values
    }
}
