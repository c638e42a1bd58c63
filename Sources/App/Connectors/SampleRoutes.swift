import Fivetran
import Foundation
import Web

/// The JSON routes of Fivetran's Express + React sample, same shapes, so its client works
/// against Switchboard. Differences (README "The sample's JSON routes"): errors are JSON with a
/// real status instead of a 500 with text, and the schema name is derived from the given name.
///
/// The two big lists are encoded once per data version and served as kept bytes, like the
/// pages' content: the sample itself re-encoded them on every request.
struct SampleRoutes {
    let directory: ConnectorDirectory
    let encoded: RenderedContent

    func register(in router: inout Router) {
        router.get("/_/services") { _ in
            try directory.requireConfigured()
            let catalog = try await read { try await directory.catalog.current() }
            return .json(
                bytes: encoded.bytes(for: "sample|services", version: "\(catalog.version)") {
                    encode(catalog.value.types)
                })
        }
        router.get("/_/connectors") { _ in
            try directory.requireConfigured()
            let connections = try await read { try await directory.connections.current() }
            return .json(
                bytes: encoded.bytes(for: "sample|connectors", version: "\(connections.version)") {
                    encode(connections.value.map { withDisplayName($0.connection, $0.name) })
                })
        }
        router.get("/_/connectors/{id}") { request in
            try directory.requireConfigured()
            let connection = try await read { try await directory.connection(id: request[parameter: "id"] ?? "") }
            return .json(withDisplayName(connection, directory.displayName(for: connection)))
        }
        router.get("/_/connectors/{id}/form") { request in
            try directory.requireConfigured()
            let id = request[parameter: "id"] ?? ""
            let url = try await read { try await directory.cardURL(for: id) }
            return .json(["url": url.absoluteString, "connectorId": id])
        }
        router.post("/_/connectors") { request in
            try directory.requireConfigured()
            guard request.mediaType == "application/json" else {
                throw HTTPError.unsupportedMediaType("Send {\"service\", \"name\"} as application/json.")
            }
            guard let body = try? JSONDecoder().decode(NewConnector.self, from: Data(request.body)) else {
                throw HTTPError.badRequest("The body must be JSON like {\"service\": \"salesforce\", \"name\": \"Sales\"}.")
            }
            let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty else { throw HTTPError.unprocessable("Give the connector a name.") }
            let catalog = try await read { try await directory.catalog.current().value }
            guard catalog.byID[body.service] != nil else {
                throw HTTPError.unprocessable("The catalog has no connector type “\(body.service)”.")
            }
            let taken = Set(try await read { try await directory.connections.current().value }.map(\.schemaName))
            let suggested = SchemaName.suggest(from: name)
            let schema = SchemaName.unique(suggested.isEmpty ? body.service : suggested, taken: taken)
            let (created, _) = try await read {
                try await directory.create(service: body.service, displayName: name, schema: schema, user: request.remoteUser)
            }
            return .json(withDisplayName(created, name))
        }
    }

    struct NewConnector: Decodable {
        let service: String
        let name: String
    }

    /// Fivetran's object, unchanged, plus the sample's `display_name`.
    private func withDisplayName(_ connection: Connection, _ name: String) -> [String: JSONValue] {
        var object = connection.raw
        object["display_name"] = .string(name)
        object.removeValue(forKey: "connect_card")  // a bearer token for the card; the form route hands out cards
        return object
    }

    /// The bytes `Response.json` would send for `value`.
    private func encode(_ value: some Encodable) -> [UInt8] {
        guard case .bytes(let bytes) = Response.json(value).body else { return [] }
        return bytes
    }

    private func read<T>(_ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch { throw error.pageError }
    }
}
