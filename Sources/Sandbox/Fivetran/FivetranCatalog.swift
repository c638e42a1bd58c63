import Foundation

/// The connector-type catalog the sandbox serves, generated from Fivetran's OpenAPI document by
/// `scripts/gen-schema-formats` (names, categories and descriptions partly invented, always the same).
struct FivetranCatalog: Sendable {
    struct Item: Codable, Sendable {
        struct Feature: Codable, Sendable { var id: String }
        var id: String
        var name: String
        var type: String
        var description: String
        var icon_url: String
        var icons: [String]
        var link_to_docs: String
        var link_to_erd: String?
        var connector_class: String
        var supported_features: [Feature]
        var service_status: String
        var service_status_updated_at: String

        /// The same item with its icon paths made absolute against the sandbox's own URL.
        func absolute(base: String) -> Item {
            var copy = self
            copy.icon_url = Self.absolute(icon_url, base: base)
            copy.icons = icons.map { Self.absolute($0, base: base) }
            return copy
        }

        private static func absolute(_ path: String, base: String) -> String {
            path.hasPrefix("/") ? base + path : path
        }
    }

    /// What `config` must hold for a service, by the create request's OpenAPI discriminator.
    enum SchemaFormat: String, Codable, Sendable {
        case schema
        case schemaTable = "schema_table"
        case schemaPrefix = "schema_prefix"
        case schemaTableGroup = "schema_table_group"

        var requiredKeys: [String] {
            switch self {
            case .schema: ["schema"]
            case .schemaTable: ["schema", "table"]
            case .schemaPrefix: ["schema_prefix"]
            case .schemaTableGroup: ["schema", "table_group_name"]
            }
        }

        /// The connection's `schema` field from its config keys (already checked present).
        func connectionName(_ config: [String: String]) -> String {
            switch self {
            case .schema: config["schema"]!
            case .schemaTable: config["schema"]! + "." + config["table"]!
            case .schemaPrefix: config["schema_prefix"]!
            case .schemaTableGroup: config["schema"]! + "." + config["table_group_name"]!
            }
        }
    }

    let items: [Item]
    let byID: [String: Item]
    let schemaFormats: [String: SchemaFormat]

    init(items: [Item], schemaFormats: [String: SchemaFormat]) {
        self.items = items
        self.byID = Dictionary(items.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.schemaFormats = schemaFormats
    }

    private struct File: Decodable {
        var items: [Item]
        var schema_formats: [String: SchemaFormat]
    }

    /// The catalog shipped in this module's resources.
    static let bundled: FivetranCatalog = {
        guard
            let url = Bundle.module.url(forResource: "fivetran-catalog", withExtension: "json", subdirectory: "Resources")
                ?? Bundle.module.url(forResource: "fivetran-catalog", withExtension: "json"),
            let data = try? Data(contentsOf: url),
            let file = try? JSONDecoder().decode(File.self, from: data)
        else {
            fatalError("Sandbox resource fivetran-catalog.json is missing or unreadable; run scripts/gen-schema-formats")
        }
        return FivetranCatalog(items: file.items, schemaFormats: file.schema_formats)
    }()

    /// A small SVG (initials on a colour from the id) so pages show icons with no network.
    func iconSVG(for id: String) -> String? {
        guard let item = byID[id] else { return nil }
        let words = item.name.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        let initials = String(words.prefix(2).compactMap(\.first)).uppercased()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hue = hash % 360
        let text = initials.isEmpty ? "?" : FivetranHTML.escape(initials)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label="\(FivetranHTML.escape(item.name))">\
            <rect width="64" height="64" rx="12" fill="hsl(\(hue),55%,42%)"/>\
            <text x="32" y="41" font-family="Helvetica,Arial,sans-serif" font-size="24" font-weight="700" fill="#fff" text-anchor="middle">\(text)</text>\
            </svg>
            """
    }
}

enum FivetranHTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
