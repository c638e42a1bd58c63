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
    /// Minutes between syncs: one of `ConnectionSchedule.frequencies` (nil when Fivetran left it out).
    public var syncFrequency: Int?
    /// `auto` or `manual`.
    public var scheduleType: String?
    /// `HH:MM` (UTC), the time of day a daily (1440 minutes) sync starts.
    public var dailySyncTime: String?
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
        if case .int(let minutes)? = raw["sync_frequency"] { self.syncFrequency = minutes } else { self.syncFrequency = nil }
        self.scheduleType = raw["schedule_type"]?.stringValue
        self.dailySyncTime = raw["daily_sync_time"]?.stringValue
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
    /// What someone must do before the connection can sync (e.g. reconnect: the credentials expired).
    public var tasks: [ConnectionAlert]
    /// What Fivetran noticed but that does not stop the syncs.
    public var warnings: [ConnectionAlert]

    public init(
        setupState: String, syncState: String, updateState: String, isHistoricalSync: Bool, tasks: [ConnectionAlert] = [],
        warnings: [ConnectionAlert] = []
    ) {
        self.setupState = setupState
        self.syncState = syncState
        self.updateState = updateState
        self.isHistoricalSync = isHistoricalSync
        self.tasks = tasks
        self.warnings = warnings
    }

    init(_ value: JSONValue?) {
        self.setupState = value?["setup_state"]?.stringValue ?? "unknown"
        self.syncState = value?["sync_state"]?.stringValue ?? "unknown"
        self.updateState = value?["update_state"]?.stringValue ?? "unknown"
        self.isHistoricalSync = value?["is_historical_sync"]?.boolValue ?? false
        self.tasks = ConnectionAlert.list(value?["tasks"])
        self.warnings = ConnectionAlert.list(value?["warnings"])
    }

    public var isConnected: Bool { setupState == "connected" }
}

/// One of a connection's `tasks` or `warnings`: Fivetran's code (`reconnect`,
/// `resync_table_warning`, …), its message, and the details when it sent them.
public struct ConnectionAlert: Sendable, Hashable, Codable {
    public var code: String
    public var message: String
    public var details: String?

    public init(code: String, message: String, details: String? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// The alerts of a `tasks` or `warnings` array; an entry without a code or message is kept
    /// with what it has, anything that is not an object is skipped (a remote value is data).
    static func list(_ value: JSONValue?) -> [ConnectionAlert] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { item in
            guard case .object = item else { return nil }
            let code = item["code"]?.stringValue ?? ""
            let message = item["message"]?.stringValue ?? ""
            guard !code.isEmpty || !message.isEmpty else { return nil }
            let details: String? =
                switch item["details"] {
                case .string(let text)?: text
                case nil, .null?: nil
                case let other?: (try? JSONEncoder().encode(other)).map { String(decoding: $0, as: UTF8.self) }
                }
            return ConnectionAlert(code: code, message: message, details: details)
        }
    }
}

/// What `PATCH /v1/connections/{id}` may set: the frequencies `UpdateConnectorRequest` allows.
public enum ConnectionSchedule {
    /// Minutes between syncs Fivetran accepts.
    public static let frequencies = [1, 5, 15, 30, 60, 120, 180, 360, 480, 720, 1440]
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
