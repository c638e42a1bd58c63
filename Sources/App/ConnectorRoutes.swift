import Foundation
import Web

/// Fivetran connectors. For now the placeholder list and the new-connector form with its
/// validation; the Fivetran calls arrive with the connector-management issue.
struct ConnectorRoutes {
    let site: Site

    func register(in router: inout Router) {
        router.get("/connectors") { [site] request in
            try site.page("connectors", title: "Connectors", section: "connectors", request: request)
        }
        router.get("/connectors/new") { [site] request in
            let name = request.query["name"] ?? ""
            return try site.page(
                "connector-new", title: "New connector", section: "connectors",
                values: ["service": request.query["service"] ?? "", "display_name": name,
                         "schema": SchemaName.suggest(from: name)],
                request: request)
        }
        router.post("/connectors") { [site] request in
            let form = try request.form()
            let displayName = (form["display_name"] ?? "").trimmingCharacters(in: .whitespaces)
            let schema = (form["schema"] ?? "").trimmingCharacters(in: .whitespaces)
            var values: [String: Any] = [
                "service": form["service"] ?? "", "display_name": displayName, "schema": schema,
            ]
            var invalid = false
            if displayName.isEmpty {
                values["display_name_error"] = "Give the connector a name people will recognise."
                invalid = true
            }
            if let problem = SchemaName.problem(schema) {
                values["schema_error"] = problem
                invalid = true
            }
            if invalid {
                return try site.page("connector-new", title: "New connector", section: "connectors", values: values,
                    request: request, status: 422)
            }
            values["created"] = true
            return try site.page("connector-new", title: "New connector", section: "connectors", values: values,
                request: request)
        }
    }
}

/// The destination schema name rules: lower-case letters, digits and underscores, starting
/// with a letter (what Fivetran accepts as a schema name).
enum SchemaName {
    static func suggest(from displayName: String) -> String {
        var out = ""
        var lastUnderscore = false
        let folded = displayName.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
        for scalar in folded.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
                lastUnderscore = false
            } else if !out.isEmpty && !lastUnderscore {
                out += "_"
                lastUnderscore = true
            }
        }
        while out.hasSuffix("_") { out.removeLast() }
        if let first = out.unicodeScalars.first, ("0"..."9").contains(first) { out = "s_" + out }
        return String(out.prefix(63))
    }

    /// What is wrong with a schema name, in words, or nil if it is fine.
    static func problem(_ name: String) -> String? {
        if name.isEmpty { return "Choose a schema name." }
        if name.count > 63 { return "Keep the schema name to 63 characters or fewer." }
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else {
            return "The schema name must start with a lower-case letter."
        }
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        return allowed ? nil : "Use only lower-case letters, digits and underscores in the schema name."
    }
}
