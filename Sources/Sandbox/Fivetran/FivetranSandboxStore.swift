import Foundation

/// One connection as the sandbox keeps it; encodes to the shape of Fivetran's `ConnectorResponse`.
struct FivetranConnectionRecord: Sendable, Encodable {
    var id: String
    var groupID: String
    var service: String
    var schema: String
    var config: [String: String]
    var paused: Bool
    var syncFrequency: Int
    var createdAt: Date
    var succeededAt: Date?
    var failedAt: Date?
    var setupState: String
    var syncState: String
    var updateState: String
    var isHistoricalSync: Bool
    var connectCardConfig: [String: String]?
    /// Only set on the reply that created it or asked for a card.
    var connectCard: (token: String, uri: String)?
    var tasks: [FivetranAlert] = []
    var warnings: [FivetranAlert] = []
    var scheduleType = "auto"
    var dailySyncTime = "03:00"
    /// When the sync asked for ends (`sync_state` is `syncing` until then).
    var syncUntil: Date?

    private struct Status: Encodable {
        var setup_state: String
        var sync_state: String
        var update_state: String
        var is_historical_sync: Bool
        var tasks: [FivetranAlert]
        var warnings: [FivetranAlert]
    }

    private enum Key: String, CodingKey {
        case id, group_id, service, service_version, schema, paused, pause_after_trial, connected_by, created_at,
            succeeded_at, failed_at, sync_frequency, schedule_type, daily_sync_time, data_delay_sensitivity, status, config,
            connect_card, connect_card_config
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(id, forKey: .id)
        try c.encode(groupID, forKey: .group_id)
        try c.encode(service, forKey: .service)
        try c.encode(1, forKey: .service_version)
        try c.encode(schema, forKey: .schema)
        try c.encode(paused, forKey: .paused)
        try c.encode(false, forKey: .pause_after_trial)
        try c.encodeNil(forKey: .connected_by)
        try c.encode(FivetranTime.format(createdAt), forKey: .created_at)
        try c.encode(succeededAt.map(FivetranTime.format), forKey: .succeeded_at)
        try c.encode(failedAt.map(FivetranTime.format), forKey: .failed_at)
        try c.encode(syncFrequency, forKey: .sync_frequency)
        try c.encode(scheduleType, forKey: .schedule_type)
        try c.encode(dailySyncTime, forKey: .daily_sync_time)
        try c.encode("NORMAL", forKey: .data_delay_sensitivity)
        try c.encode(
            Status(
                setup_state: setupState, sync_state: syncState, update_state: updateState, is_historical_sync: isHistoricalSync,
                tasks: tasks, warnings: warnings),
            forKey: .status)
        try c.encode(config, forKey: .config)
        if let card = connectCard { try c.encode(["token": card.token, "uri": card.uri], forKey: .connect_card) }
        if let connectCardConfig { try c.encode(connectCardConfig, forKey: .connect_card_config) }
    }
}

/// One of a connection's `tasks` or `warnings`, as Fivetran writes them.
struct FivetranAlert: Sendable, Encodable, Equatable {
    var code: String
    var message: String
    var details: String?

    /// What a broken seeded connection asks for.
    static let reconnect = FivetranAlert(
        code: "reconnect", message: "Reconnect: the credentials expired",
        details: "The source refused the saved credentials (401). Enter them again to resume syncing.")
    /// What some healthy seeded connections carry.
    static let resyncTable = FivetranAlert(
        code: "resync_table_warning", message: "A table's history is incomplete and should be re-synced",
        details: "Table 'orders' changed its primary key.")
}

/// One API request the stand-in received: what tests check was sent.
public struct FivetranReceivedRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    public var body: String
}

/// A Connect Card token: which connection it opens and until when.
struct FivetranCardToken: Sendable {
    var connectionID: String
    var redirectURI: String
    var expires: Date
}

/// Faults queued by `POST /_sandbox/faults`: the next `count` API answers fail with `status`.
struct FivetranFault: Sendable {
    var status: Int
    var remaining: Int
    var retryAfter: Int
}

/// Everything the sandbox remembers; guarded by one lock in `FivetranSandboxCore`.
struct FivetranSandboxState: Sendable {
    var connections: [FivetranConnectionRecord] = []
    var index: [String: Int] = [:]
    var tokens: [String: FivetranCardToken] = [:]
    var faults: [FivetranFault] = []
    var latency: Duration = .zero
    var stats: [String: Int] = [:]
    /// Times of the API requests of the last hour, oldest first (the rolling-hour quota).
    var window: [Date] = []
    var windowStart = 0
    var clockOffset: TimeInterval = 0
    var counter = 0
    /// Connections whose requested sync has not ended yet.
    var syncing: Set<String> = []
    /// The API requests that change something (PATCH, POST …/sync, DELETE), newest last.
    var received: [FivetranReceivedRequest] = []

    /// Ends the syncs that are due: `sync_state` back to `scheduled` (or `paused`), and
    /// `succeeded_at` (or, for a broken connection, `failed_at`) moved to the end of the sync.
    mutating func settle(now: Date) {
        guard !syncing.isEmpty else { return }
        for id in syncing {
            guard let i = index[id], let until = connections[i].syncUntil else {
                syncing.remove(id)
                continue
            }
            guard until <= now else { continue }
            connections[i].syncUntil = nil
            connections[i].syncState = connections[i].paused ? "paused" : "scheduled"
            if connections[i].setupState == "broken" {
                connections[i].failedAt = until
            } else {
                connections[i].succeededAt = until
                connections[i].isHistoricalSync = false
            }
            syncing.remove(id)
        }
    }

    mutating func remove(_ id: String) -> Bool {
        guard let i = index[id] else { return false }
        connections.remove(at: i)
        index = Dictionary(uniqueKeysWithValues: connections.enumerated().map { ($1.id, $0) })
        syncing.remove(id)
        tokens = tokens.filter { $0.value.connectionID != id }
        return true
    }

    mutating func insert(_ record: FivetranConnectionRecord) {
        index[record.id] = connections.count
        connections.append(record)
    }

    func connection(_ id: String) -> FivetranConnectionRecord? {
        index[id].map { connections[$0] }
    }

    mutating func update(_ id: String, _ change: (inout FivetranConnectionRecord) -> Void) {
        if let i = index[id] { change(&connections[i]) }
    }

    /// Counts one request against the hourly quota; answers the seconds to wait when it is spent.
    mutating func admit(now: Date, quota: Int) -> (remaining: Int, retryAfter: Int?) {
        while windowStart < window.count, now.timeIntervalSince(window[windowStart]) >= 3600 { windowStart += 1 }
        if windowStart > 4096 {
            window.removeFirst(windowStart)
            windowStart = 0
        }
        let used = window.count - windowStart
        if used >= quota {
            let oldest = windowStart < window.count ? window[windowStart] : now
            let wait = max(1, Int((3600 - now.timeIntervalSince(oldest)).rounded(.up)))
            return (0, wait)
        }
        window.append(now)
        return (quota - used - 1, nil)
    }

    func remaining(now: Date, quota: Int) -> Int {
        let used = window[windowStart...].filter { now.timeIntervalSince($0) < 3600 }.count
        return max(0, quota - used)
    }
}

/// RFC 3339 timestamps in UTC with six fractional digits, as Fivetran writes them.
enum FivetranTime {
    static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let micros = Int(((seconds - whole) * 1_000_000).rounded(.down))
        let base = Date.ISO8601FormatStyle().format(Date(timeIntervalSince1970: whole))
        return String(base.dropLast()) + "." + String(format: "%06d", micros) + "Z"
    }
}

/// The seeded connections: services from the catalog, mixed states, creation dates spread over
/// six months before a fixed day, so every run with one seed serves the same bytes.
enum FivetranSeed {
    static let adjectives = [
        "brisk", "calm", "daring", "eager", "fuzzy", "gentle", "hollow", "icy", "jolly", "keen", "lively", "mellow",
        "nimble", "odd", "proud", "quiet", "rapid", "sturdy", "tidy", "upbeat", "vivid", "witty", "young", "zesty",
        "amber", "bold", "clever", "dusty", "elegant", "frosty", "glossy", "humble",
    ]
    static let nouns = [
        "anchor", "badger", "canyon", "dolphin", "ember", "falcon", "glacier", "harbor", "island", "jungle", "kettle",
        "lantern", "meadow", "nebula", "orchard", "pepper", "quartz", "river", "summit", "tundra", "umbrella",
        "valley", "walnut", "yonder", "zephyr", "beacon", "cobalt", "delta", "fjord", "grove", "horizon", "ivory",
    ]
    /// 2025-06-01T00:00:00Z: seeded dates are fixed, not relative to today.
    static let reference = Date(timeIntervalSince1970: 1_748_736_000)

    static func connections(count: Int, groupID: String, catalog: FivetranCatalog, seed: UInt64) -> [FivetranConnectionRecord] {
        var random = SeededRandom(seed: seed)
        var used = Set<String>()
        var records: [FivetranConnectionRecord] = []
        records.reserveCapacity(count)
        let services = catalog.items.map(\.id)
        guard !services.isEmpty else { return [] }
        for n in 0..<count {
            var id = adjectives.randomElement(using: &random)! + "_" + nouns.randomElement(using: &random)!
            if used.contains(id) { id += "_\(n)" }
            used.insert(id)
            let service = services.randomElement(using: &random)!
            let format = catalog.schemaFormats[service] ?? .schema
            let name = "\(service)_\(n)"
            var config: [String: String] = [:]
            for key in format.requiredKeys { config[key] = key == "schema" || key == "schema_prefix" ? name : "t\(n)" }
            let created = reference.addingTimeInterval(-Double(random.next(upperBound: UInt64(180 * 86_400))))
            let roll = random.next(upperBound: UInt64(100))
            let setup = roll < 60 ? "connected" : roll < 85 ? "incomplete" : "broken"
            let sync =
                setup == "connected"
                ? ["scheduled", "scheduled", "syncing", "paused", "rescheduled"].randomElement(using: &random)!
                : "scheduled"
            let lastSync = created.addingTimeInterval(Double(3_600 + random.next(upperBound: UInt64(30 * 86_400))))
            records.append(
                FivetranConnectionRecord(
                    id: id, groupID: groupID, service: service, schema: format.connectionName(config), config: config,
                    paused: sync == "paused", syncFrequency: [60, 360, 720, 1440].randomElement(using: &random)!,
                    createdAt: created,
                    succeededAt: setup == "connected" ? lastSync : nil,
                    failedAt: setup == "broken" ? lastSync : nil,
                    setupState: setup, syncState: sync,
                    updateState: random.next(upperBound: UInt64(10)) == 0 ? "delayed" : "on_schedule",
                    isHistoricalSync: setup != "connected", connectCardConfig: nil, connectCard: nil,
                    tasks: setup == "broken" ? [.reconnect] : [],
                    warnings: setup == "connected" && n % 7 == 3 ? [.resyncTable] : []))
        }
        return records
    }
}
