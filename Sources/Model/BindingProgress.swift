import Foundation

/// How far one binding of a capture has got: the engine reports it, the job runner adds earlier
/// attempts' counts and saves it with each heartbeat, the job page, the JSON API and the CLI show
/// it. One plain `Codable` value all the way, so nothing is parsed back from text.
///
/// Its JSON is a stored format (the `job.progress` column): rows saved by earlier versions, with
/// a `cursor` text and no `position`, still read.
public struct BindingProgress: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Equatable, Codable {
        case waiting, running, done, cancelled, failed
    }

    /// The collection written (`acme/channels`).
    public var name: String
    /// The Front resource (`channels`).
    public var resource: String
    public var state: State
    /// Pages read (a search window's first page included).
    public var pages: Int
    /// Documents actually changed in the store (unchanged re-reads are not counted).
    public var documents: Int
    public var deleted: Int
    /// HTTP requests made for this binding, retries included. The shared events feed counts
    /// under `events` when that is bound, else under `conversations`.
    public var requests: Int
    /// Milliseconds since 1970 up to which the binding has read (a cursor or a search window's
    /// end); nil for snapshots, which have no position in time.
    public var position: Int64?
    /// 0…1 when it can be told (see `fraction(position:start:now:)`), else nil.
    public var fraction: Double?
    /// Why it failed, when `state` is `failed`.
    public var error: String?

    public var done: Bool { state == .done }

    public init(
        name: String, resource: String, state: State = .waiting, pages: Int = 0, documents: Int = 0, deleted: Int = 0,
        requests: Int = 0, position: Int64? = nil, fraction: Double? = nil, error: String? = nil
    ) {
        self.name = name
        self.resource = resource
        self.state = state
        self.pages = pages
        self.documents = documents
        self.deleted = deleted
        self.requests = requests
        self.position = position
        self.fraction = fraction
        self.error = error
    }

    /// How far `position` is between the start date and now: a plain ratio, clamped to 0…1; nil
    /// without a position or with nothing between the two.
    public static func fraction(position: Int64?, start: Date, now: Date) -> Double? {
        guard let position else { return nil }
        let from = start.timeIntervalSince1970 * 1000
        let span = now.timeIntervalSince1970 * 1000 - from
        guard span > 0, span.isFinite else { return nil }
        return min(1, max(0, (Double(position) - from) / span))
    }

    /// The position as a date, for display.
    public var positionDate: Date? { position.map { Date(timeIntervalSince1970: Double($0) / 1000) } }

    enum CodingKeys: String, CodingKey {
        case name, resource, state, pages, documents, deleted, requests, position, fraction, error, done, cursor
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        resource = try c.decode(String.self, forKey: .resource)
        // An unknown state (a later version's) reads as waiting rather than losing the row.
        state = (try? c.decodeIfPresent(String.self, forKey: .state)).flatMap { State(rawValue: $0) } ?? .waiting
        pages = try c.decodeIfPresent(Int.self, forKey: .pages) ?? 0
        documents = try c.decodeIfPresent(Int.self, forKey: .documents) ?? 0
        deleted = try c.decodeIfPresent(Int.self, forKey: .deleted) ?? 0
        requests = try c.decodeIfPresent(Int.self, forKey: .requests) ?? 0
        fraction = try c.decodeIfPresent(Double.self, forKey: .fraction)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        position = try c.decodeIfPresent(Int64.self, forKey: .position)
        if position == nil, let cursor = try? c.decodeIfPresent(String.self, forKey: .cursor) {
            position = Self.legacyPosition(cursor)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(resource, forKey: .resource)
        try c.encode(state, forKey: .state)
        try c.encode(pages, forKey: .pages)
        try c.encode(documents, forKey: .documents)
        try c.encode(deleted, forKey: .deleted)
        try c.encode(requests, forKey: .requests)
        try c.encodeIfPresent(position, forKey: .position)
        try c.encodeIfPresent(fraction, forKey: .fraction)
        try c.encodeIfPresent(error, forKey: .error)
        // Read by workers of earlier versions, which require it (a rolling restart has both).
        try c.encode(done, forKey: .done)
    }

    /// Rows saved before `position` existed kept a text such as `2024-11-15T09:12:00Z` or
    /// `searched to 2024-…`; its time, when it ends with one, is the position.
    static func legacyPosition(_ cursor: String) -> Int64? {
        guard let word = cursor.split(separator: " ").last,
            let date = try? Date(String(word), strategy: .iso8601)
        else { return nil }
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        guard millis.isFinite, abs(millis) < 1e15 else { return nil }
        return Int64(millis)
    }
}
