import Fivetran
import Foundation
import Logging
import Model
import Store
import Transport
import Web

/// The team's Fivetran group as the pages see it: the catalog of connector types and the
/// group's connections, merged with the display names kept in SQLite, kept fresh in the
/// background by `FivetranRefresher` (metadata every hour, connections every 30 seconds by
/// default). Page views never wait on Fivetran once a value exists; creating a connector and
/// coming back from the Connect Card refresh the connection list before they answer, so the
/// next page shows the change.
final class ConnectorDirectory: Sendable {
    let settings: FivetranSettings
    let publicURL: String
    let client: FivetranClient
    let names: any ConnectorNameStore
    /// Where each change made through Switchboard is recorded, once Fivetran answered it.
    let audit: any AuditStore
    let logger: Logger
    /// Single connections read for a detail page whose list entry is missing or stale, briefly.
    let details: DetailCache
    let catalog: Refreshed<Catalog>
    let connections: Refreshed<[ConnectorRow]>

    /// How long one page may wait on Fivetran, retries included.
    static let pageBudget: Duration = .seconds(15)
    /// Requests that may wait on a live Fivetran call at once; the rest answer 503, so a slow
    /// Fivetran can never hold every accept thread and stop the pages that need no call.
    let liveCalls: ThreadBudget

    init(
        settings: FivetranSettings, publicURL: String, names: any ConnectorNameStore, audit: any AuditStore, logger: Logger,
        liveCallLimit: Int = 4, transport: any HTTPTransport = URLSessionTransport()
    ) {
        self.audit = audit
        self.details = DetailCache(ttl: min(settings.connectionsTTL, .seconds(10)))
        self.liveCalls = ThreadBudget(
            limit: liveCallLimit,
            refusal: HTTPError(
                status: 503, title: "Fivetran is slow to answer",
                message: "Other pages are already waiting on Fivetran. Try again in a few seconds.",
                headers: ["Retry-After": "5"]))
        self.settings = settings
        self.publicURL = publicURL
        self.names = names
        self.logger = logger
        let client = FivetranClient(
            baseURL: settings.baseURL, apiKey: settings.apiKey, apiSecret: settings.apiSecret,
            pathStyle: settings.legacyPaths ? .legacy : .current, transport: transport, callBudget: Self.pageBudget)
        self.client = client
        self.catalog = Refreshed<Catalog>(ttl: settings.metadataTTL) {
            Catalog(try await client.connectorTypes())
        }
        let group = settings.groupID
        self.connections = Refreshed<[ConnectorRow]>(ttl: settings.connectionsTTL) {
            let list = try await client.connections(group: group)
            let names = try names.connectorNames()
            return list.map { ConnectorRow(connection: $0, displayName: names[$0.id]) }
        }
    }

    /// Throws a 503 page when Fivetran is not configured, before anything calls it.
    func requireConfigured() throws(HTTPError) {
        if let missing = settings.missing {
            throw HTTPError(status: 503, title: "Fivetran is not configured", message: missing)
        }
    }

    func connection(id: String) async throws -> Connection {
        try await liveCalls.run { [client] in try await client.connection(id: id) }
    }

    /// Creates the connection, remembers its display name, refreshes the list, and answers the
    /// Connect Card URI Fivetran returned, only if it points at the card host.
    func create(service: String, displayName: String, schema: String, user: String?) async throws -> (Connection, URL) {
        try await liveCalls.run { try await createNow(service: service, displayName: displayName, schema: schema, user: user) }
    }

    private func createNow(service: String, displayName: String, schema: String, user: String?) async throws -> (Connection, URL)
    {
        // The return address names the connection, which has no id until it exists: create it
        // with the list as return address, then ask for a card that comes back to it by id.
        let created: Connection
        do {
            created = try await client.createConnection(
                service: service, group: settings.groupID, schemaName: schema, redirectURI: returnURL(path: "/connectors"))
        } catch {
            record(
                NewAuditEntry(
                    actor: user, action: .connectorCreated, object: "connector:new",
                    detail: "service: \(service), schema: \(schema), name: \(displayName)", error: error.description))
            throw error
        }
        try names.setConnectorName(displayName, for: created.id, by: user)
        record(
            NewAuditEntry(
                actor: user, action: .connectorCreated, object: "connector:\(created.id)",
                detail: "service: \(service), schema: \(schema), name: \(displayName)"))
        await refreshConnections()
        let card = try await cardURLNow(for: created.id)
        return (created, card)
    }

    /// Refetches the connection list now (after a change), logging rather than failing: the
    /// change itself succeeded, and the refresher tries again on its own schedule.
    func refreshConnections() async {
        do {
            let snapshot = try await connections.refresh()
            if let error = snapshot.refreshError { throw error }
        } catch {
            logger.warning("could not refresh the connection list: \(describe(error))")
        }
    }

    /// A fresh Connect Card for an existing connection (they expire after a day).
    func cardURL(for id: String) async throws -> URL {
        try await liveCalls.run { try await cardURLNow(for: id) }
    }

    private func cardURLNow(for id: String) async throws -> URL {
        let uri = try await client.connectCard(id: id, redirectURI: returnURL(for: id))
        guard settings.allowsCard(uri) else {
            logger.error("refusing a Connect Card redirect off the card host", metadata: ["host": "\(uri.host ?? "-")"])
            throw HTTPError(
                status: 502, title: "Unexpected Connect Card address",
                message:
                    "Fivetran answered a Connect Card address on \(uri.host ?? "an unknown host"), not on \(settings.cardHost); "
                    + "Switchboard does not send you there. If this is expected, set FIVETRAN_CARD_HOST.")
        }
        return uri
    }

    func returnURL(for id: String) -> URL {
        returnURL(path: "/connectors/\(percentEncode(id))/return")
    }

    /// `publicURL` + `path`; the public URL was checked to be a URL at start-up (Configuration).
    private func returnURL(path: String) -> URL {
        URL(string: publicURL + path) ?? URL(fileURLWithPath: path)
    }

    /// The display name for the JSON routes: the stored one, else the schema (as the sample did).
    func displayName(for connection: Connection) -> String {
        ((try? names.connectorNames()) ?? [:])[connection.id] ?? connection.schema
    }
}

/// The connector types, with lookups the pages need.
struct Catalog: Sendable {
    let types: [ConnectorType]
    let byID: [String: ConnectorType]
    let categories: [String]

    init(_ types: [ConnectorType]) {
        self.types = types.sorted { $0.name.localizedCaseInsensitiveCompare($1.name) == .orderedAscending }
        byID = Dictionary(types.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        categories = Set(types.compactMap(\.type)).sorted()
    }
}

/// One connection with the name people gave it.
struct ConnectorRow: Sendable {
    let connection: Connection
    let displayName: String?

    var name: String { displayName ?? connection.schema }
    /// The schema part of `schema` (Fivetran writes `schema.table` for table services).
    var schemaName: String { String(connection.schema.split(separator: ".").first ?? "") }
}

/// A Fivetran failure as the page a person sees: what went wrong and what to do, with the
/// status that says whose fault it is (422 for what they typed, 502/503 for upstream trouble).
extension FivetranError {
    var httpError: HTTPError {
        switch self {
        case .badRequest(let message):
            HTTPError(
                status: 422, title: "Fivetran refused this", message: "Fivetran said: \(message ?? "the request was invalid").")
        case .conflict(let message):
            HTTPError(status: 422, title: "Already exists", message: "Fivetran said: \(message ?? "it already exists").")
        case .notFound(let message):
            HTTPError(status: 404, title: "Not found in Fivetran", message: "Fivetran said: \(message ?? "no such connector").")
        case .unauthorized:
            HTTPError(
                status: 502, title: "Fivetran rejected Switchboard's credentials",
                message: "Fivetran answered 401: the API key or secret is wrong or was revoked. "
                    + "Ask whoever runs Switchboard to check FIVETRAN_API_KEY and FIVETRAN_API_SECRET.")
        case .forbidden(let message):
            HTTPError(
                status: 502, title: "Fivetran refused access",
                message: "Fivetran answered 403 (\(message ?? "not permitted")): the API key lacks permission for this group.")
        case .rateLimited(let retryAfter, _):
            HTTPError(
                status: 503, title: "Fivetran is busy",
                message:
                    "Fivetran's rate limit is reached. Try again in \(retryAfter.map { "\($0.components.seconds) seconds" } ?? "a minute").",
                headers: retryAfter.map { ["Retry-After": "\($0.components.seconds)"] } ?? [:])
        case .server, .unexpectedStatus, .unreachable, .malformedResponse, .cancelled:
            HTTPError(status: 502, title: "Fivetran is not answering properly", message: "\(self.description) Try again shortly.")
        }
    }
}
