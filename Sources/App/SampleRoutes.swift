import Fivetran
import Foundation
import Web

/// The JSON routes of Fivetran's Express + React sample, same shapes, so its client works
/// against Switchboard. Differences (README "The sample's JSON routes"): errors are JSON with a
/// real status instead of a 500 with text, and the schema name is derived from the given name.
struct SampleRoutes {
    let directory: ConnectorDirectory

    func register(in router: inout Router) {
        router.get("/_/services") { _ in
            try directory.requireConfigured()
            return .json(try read { try directory.catalog.get().value.types })
        }
        router.get("/_/connectors") { _ in
            try directory.requireConfigured()
            let rows = try read { try directory.connections.get().value }
            return .json(rows.map { withDisplayName($0.connection, $0.name) })
        }
        router.get("/_/connectors/{id}") { request in
            try directory.requireConfigured()
            let connection = try read { try directory.connection(id: request[parameter: "id"] ?? "") }
            return .json(withDisplayName(connection, directory.displayName(for: connection)))
        }
        router.get("/_/connectors/{id}/form") { request in
            try directory.requireConfigured()
            let id = request[parameter: "id"] ?? ""
            let url = try read { try directory.cardURL(for: id) }
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
            let catalog = try read { try directory.catalog.get().value }
            guard catalog.byID[body.service] != nil else {
                throw HTTPError.unprocessable("The catalog has no connector type “\(body.service)”.")
            }
            let taken = Set(try read { try directory.connections.get().value }.map(\.schemaName))
            let schema = SchemaName.unique(SchemaName.suggest(from: name).isEmpty ? body.service : SchemaName.suggest(from: name), taken: taken)
            let (created, _) = try read {
                try directory.create(service: body.service, displayName: name, schema: schema, user: request.remoteUser)
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

    private func read<T>(_ work: () throws -> T) throws -> T {
        do { return try work() } catch { throw error.pageError }
    }
}
