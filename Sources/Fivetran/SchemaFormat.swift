import Foundation

/// Which destination-naming keys a service needs in `config` when a connection is created. Each
/// Fivetran service takes exactly one; the table comes from the OpenAPI discriminator
/// (`scripts/gen-schema-formats`), so the web form can ask for the right thing.
public enum SchemaFormat: String, Sendable, Hashable, CaseIterable, Codable {
    /// `config.schema`
    case schema
    /// `config.schema` + `config.table` (the connection is named `schema.table`)
    case schemaTable = "schema_table"
    /// `config.schema_prefix` (databases: every source schema becomes `prefix_<name>`)
    case schemaPrefix = "schema_prefix"
    /// `config.schema` + `config.table_group_name` (file services in the current API)
    case schemaTableGroup = "schema_table_group"

    /// The `config` keys this format needs, all filled from one name.
    public func config(name: String) -> [String: String] {
        switch self {
        case .schema: ["schema": name]
        case .schemaTable: ["schema": name, "table": name]
        case .schemaPrefix: ["schema_prefix": name]
        case .schemaTableGroup: ["schema": name, "table_group_name": name]
        }
    }

    /// The keys Fivetran requires for this format, for form labels and error messages.
    public var requiredKeys: [String] {
        switch self {
        case .schema: ["schema"]
        case .schemaTable: ["schema", "table"]
        case .schemaPrefix: ["schema_prefix"]
        case .schemaTableGroup: ["schema", "table_group_name"]
        }
    }
}

/// The generated service → schema-format table, loaded once from the module's resources.
public struct SchemaFormats: Sendable {
    public let services: [String: SchemaFormat]

    public init(services: [String: SchemaFormat]) {
        self.services = services
    }

    public subscript(service: String) -> SchemaFormat? { services[service] }

    /// The table shipped with this module (`Resources/schema-formats.json`); empty if it is missing.
    public static let bundled: SchemaFormats = {
        guard
            let url = Bundle.module.url(forResource: "schema-formats", withExtension: "json", subdirectory: "Resources")
                ?? Bundle.module.url(forResource: "schema-formats", withExtension: "json"),
            let data = try? Data(contentsOf: url),
            let file = try? JSONDecoder().decode(File.self, from: data)
        else { return SchemaFormats(services: [:]) }
        return SchemaFormats(services: file.services)
    }()

    private struct File: Decodable {
        var services: [String: SchemaFormat]
    }
}
