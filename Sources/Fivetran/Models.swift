import Foundation

/// One connector type of Fivetran's catalog (`/v1/metadata/connector-types`): what the services
/// page shows. `raw` is Fivetran's object as it came, for routes that return it unchanged.
public struct ConnectorType: Sendable, Hashable, Identifiable, Codable {
    public var id: String
    public var name: String
    public var type: String?
    public var description: String?
    public var iconURL: URL?
    public var icons: [URL]
    public var linkToDocs: URL?
    public var connectorClass: String?
    public var serviceStatus: String?
    public var raw: [String: JSONValue]

    public init(from decoder: any Decoder) throws {
        let raw = try [String: JSONValue](from: decoder)
        guard let id = raw["id"]?.stringValue else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "connector type without an id"))
        }
        self.id = id
        self.name = raw["name"]?.stringValue ?? id
        self.type = raw["type"]?.stringValue
        self.description = raw["description"]?.stringValue
        self.iconURL = raw["icon_url"]?.stringValue.flatMap(URL.init(string:))
        if case .array(let icons)? = raw["icons"] {
            self.icons = icons.compactMap { $0.stringValue.flatMap(URL.init(string:)) }
        } else {
            self.icons = []
        }
        self.linkToDocs = raw["link_to_docs"]?.stringValue.flatMap(URL.init(string:))
        self.connectorClass = raw["connector_class"]?.stringValue
        self.serviceStatus = raw["service_status"]?.stringValue
        self.raw = raw
    }

    /// Encodes Fivetran's object unchanged.
    public func encode(to encoder: any Encoder) throws {
        try raw.encode(to: encoder)
    }
}

/// A connection (formerly "connector") in a group: what the connectors page lists. `raw` keeps
/// Fivetran's object unchanged.
public struct Connection: Sendable, Hashable, Identifiable, Codable {
    public var id: String
    public var service: String
    public var schema: String
    public var groupID: String
    public var paused: Bool
    public var createdAt: Date?
    public var succeededAt: Date?
    public var failedAt: Date?
    public var status: ConnectionStatus
    /// Present when the connection was created with `connect_card_config`.
    public var connectCard: ConnectCard?
    public var raw: [String: JSONValue]

    public init(from decoder: any Decoder) throws {
        let raw = try [String: JSONValue](from: decoder)
        guard let id = raw["id"]?.stringValue else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "connection without an id"))
        }
        self.id = id
        self.service = raw["service"]?.stringValue ?? ""
        self.schema = raw["schema"]?.stringValue ?? ""
        self.groupID = raw["group_id"]?.stringValue ?? ""
        self.paused = raw["paused"]?.boolValue ?? false
        self.createdAt = raw["created_at"]?.stringValue.flatMap(FivetranDate.parse)
        self.succeededAt = raw["succeeded_at"]?.stringValue.flatMap(FivetranDate.parse)
        self.failedAt = raw["failed_at"]?.stringValue.flatMap(FivetranDate.parse)
        self.status = ConnectionStatus(raw["status"])
        self.connectCard = ConnectCard(raw["connect_card"])
        self.raw = raw
    }

    /// Encodes Fivetran's object unchanged.
    public func encode(to encoder: any Encoder) throws {
        try raw.encode(to: encoder)
    }
}

/// The state fields of a connection. Kept as strings: Fivetran adds values over time and a page
/// should show a new one rather than fail to load.
public struct ConnectionStatus: Sendable, Hashable {
    /// `incomplete`, `connected` or `broken`.
    public var setupState: String
    /// `scheduled`, `syncing`, `paused` or `rescheduled`.
    public var syncState: String
    /// `on_schedule` or `delayed`.
    public var updateState: String
    public var isHistoricalSync: Bool

    public init(setupState: String, syncState: String, updateState: String, isHistoricalSync: Bool) {
        self.setupState = setupState
        self.syncState = syncState
        self.updateState = updateState
        self.isHistoricalSync = isHistoricalSync
    }

    init(_ value: JSONValue?) {
        self.setupState = value?["setup_state"]?.stringValue ?? "unknown"
        self.syncState = value?["sync_state"]?.stringValue ?? "unknown"
        self.updateState = value?["update_state"]?.stringValue ?? "unknown"
        self.isHistoricalSync = value?["is_historical_sync"]?.boolValue ?? false
    }

    public var isConnected: Bool { setupState == "connected" }
}

/// A Connect Card link: where to send the browser to finish a connection's setup. Valid one day,
/// so ask for a fresh one each time rather than storing it.
public struct ConnectCard: Sendable, Hashable {
    public var token: String
    public var uri: URL

    public init(token: String, uri: URL) {
        self.token = token
        self.uri = uri
    }

    init?(_ value: JSONValue?) {
        guard let uri = value?["uri"]?.stringValue.flatMap(URL.init(string:)) else { return nil }
        self.token = value?["token"]?.stringValue ?? ""
        self.uri = uri
    }
}

/// Fivetran's timestamps: RFC 3339 in UTC, with or without fractional seconds (often six digits).
enum FivetranDate {
    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) {
            return date
        }
        // Fractions longer than the parser takes: keep milliseconds.
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" })
        {
            let fraction = text[text.index(after: dot)..<zone].prefix(3)
            let trimmed = text[..<dot] + "." + fraction + text[zone...]
            return try? Date(String(trimmed), strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        return nil
    }
}
