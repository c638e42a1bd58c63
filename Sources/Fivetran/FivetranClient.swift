import Foundation
import Metrics
import Transport

/// The Fivetran REST client the app uses for the catalog, the group's connections, creating a
/// connection and its Connect Card. A value: cheap to copy and share across threads.
///
/// Errors are `FivetranError`; 429 and transient failures are retried as `FivetranRetryPolicy` decides,
/// never past the call's deadline. The API secret is never logged nor put in any error or
/// `description`.
public struct FivetranClient: Sendable {
    /// Which generation of paths to call. `.current` is `/v1/connections…` and
    /// `/v1/metadata/connector-types`; `.legacy` is `/v1/connectors…` and `/v1/metadata/connectors`,
    /// the paths the original sample used and older accounts or proxies may still expect.
    public enum PathStyle: String, Sendable, Hashable, CaseIterable {
        case current
        case legacy
    }

    public let baseURL: URL
    public let pathStyle: PathStyle
    public var retryPolicy: FivetranRetryPolicy
    /// Time allowed for one call, retries and waits included, when the caller gives no deadline.
    public var callBudget: Duration?
    /// Timeout of one HTTP attempt.
    public var attemptTimeout: Duration
    /// The service → schema-format table used to build create bodies.
    public var schemaFormats: SchemaFormats

    private let credentials: Credentials
    private let transport: any HTTPTransport
    private let sleep: @Sendable (Duration) async throws -> Void
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameters:
    ///   - baseURL: `FIVETRAN_BASE_URL`, e.g. `https://api.fivetran.com` (a trailing `/v1` is accepted).
    ///   - sleep, now: injected so tests of the retry loop need no real time.
    public init(
        baseURL: URL, apiKey: String, apiSecret: String, pathStyle: PathStyle = .current,
        transport: any HTTPTransport = URLSessionTransport(), retryPolicy: FivetranRetryPolicy = FivetranRetryPolicy(),
        callBudget: Duration? = .seconds(30), attemptTimeout: Duration = .seconds(20),
        schemaFormats: SchemaFormats = .bundled,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        self.baseURL = URL(string: base) ?? baseURL
        self.pathStyle = pathStyle
        self.retryPolicy = retryPolicy
        self.callBudget = callBudget
        self.attemptTimeout = attemptTimeout
        self.schemaFormats = schemaFormats
        self.credentials = Credentials(key: apiKey, secret: apiSecret)
        self.transport = transport
        self.sleep = sleep
        self.now = now
    }

    /// The schema format a service needs, or nil for a service the generated table does not know.
    public func schemaFormat(for service: String) -> SchemaFormat? {
        schemaFormats[service]
    }

    // MARK: - Calls

    /// Every connector type of the catalog, all pages.
    public func connectorTypes(deadline: ContinuousClock.Instant? = nil) async throws(FivetranError) -> [ConnectorType] {
        let path = pathStyle == .current ? "/v1/metadata/connector-types" : "/v1/metadata/connectors"
        return try await allPages(path: path, query: [], deadline: deadline)
    }

    /// Every connection of a group, all pages.
    public func connections(group: String, deadline: ContinuousClock.Instant? = nil) async throws(FivetranError) -> [Connection] {
        let path = "/v1/groups/\(segment(group))/\(pathStyle == .current ? "connections" : "connectors")"
        return try await allPages(path: path, query: [], deadline: deadline)
    }

    /// One connection's details.
    public func connection(id: String, deadline: ContinuousClock.Instant? = nil) async throws(FivetranError) -> Connection {
        let route = Route(method: "GET", path: "\(collection)/\(segment(id))")
        return try await data(of: route, deadline: deadline, as: Connection.self)
    }

    /// Creates a connection, unpaused and without setup tests (the end user gives credentials in
    /// the Connect Card), named `schemaName` in the service's schema format, and returns it with
    /// its Connect Card URI. A service missing from the table is sent as plain `schema`; Fivetran's
    /// 400 then names the field it wanted.
    public func createConnection(
        service: String, group: String, schemaName: String, redirectURI: URL,
        deadline: ContinuousClock.Instant? = nil
    ) async throws(FivetranError) -> Connection {
        let deadline = deadline ?? callBudget.map { now().advanced(by: $0) }
        let format = schemaFormat(for: service) ?? .schema
        let body: JSONValue = .object([
            "service": .string(service),
            "group_id": .string(group),
            "config": .object(format.config(name: schemaName).mapValues(JSONValue.string)),
            "run_setup_tests": .bool(false),
            "paused": .bool(false),
            "connect_card_config": .object(["redirect_uri": .string(redirectURI.absoluteString)]),
        ])
        let route = Route(method: "POST", path: collection, body: body, idempotent: false)
        var created = try await data(of: route, deadline: deadline, as: Connection.self)
        if created.connectCard == nil {
            let uri = try await connectCard(id: created.id, redirectURI: redirectURI, deadline: deadline)
            created.connectCard = ConnectCard(token: "", uri: uri)
        }
        return created
    }

    /// A fresh Connect Card URI for a connection (valid one day; ask again rather than store it).
    public func connectCard(id: String, redirectURI: URL, deadline: ContinuousClock.Instant? = nil) async throws(FivetranError)
        -> URL
    {
        let body: JSONValue = .object(["connect_card_config": .object(["redirect_uri": .string(redirectURI.absoluteString)])])
        let route = Route(method: "POST", path: "\(collection)/\(segment(id))/connect-card", body: body)
        let reply = try await data(of: route, deadline: deadline, as: ConnectCardReply.self)
        guard let uri = reply.connectCard?.uri else {
            throw .malformedResponse(route: route.name, reason: "no connect_card.uri in data")
        }
        return uri
    }

    /// Changes a connection's `paused` and/or `sync_frequency` (`PATCH`, only the fields given)
    /// and returns it as Fivetran now has it. A frequency outside `ConnectionSchedule.frequencies`
    /// is sent as is: Fivetran's 400 (`.badRequest`) then says what it allows.
    public func updateConnection(
        id: String, paused: Bool? = nil, syncFrequency: Int? = nil, deadline: ContinuousClock.Instant? = nil
    ) async throws(FivetranError) -> Connection {
        var fields: [String: JSONValue] = [:]
        if let paused { fields["paused"] = .bool(paused) }
        if let syncFrequency { fields["sync_frequency"] = .int(syncFrequency) }
        let route = Route(method: "PATCH", path: "\(collection)/\(segment(id))", body: .object(fields))
        return try await data(of: route, deadline: deadline, as: Connection.self)
    }

    /// Asks Fivetran to start a sync now (`POST …/sync`). Answers Fivetran's message. A connection
    /// whose setup is incomplete is refused with `.conflict` and Fivetran's reason. Asking twice
    /// starts one sync, so a lost answer is safely asked again.
    @discardableResult
    public func syncConnection(id: String, deadline: ContinuousClock.Instant? = nil) async throws(FivetranError) -> String? {
        let route = Route(method: "POST", path: "\(collection)/\(segment(id))/sync", body: .object([:]))
        let response = try await send(route, deadline: deadline ?? callBudget.map { now().advanced(by: $0) })
        return (try? JSONDecoder().decode(ErrorReply.self, from: response.body))?.message
    }

    /// Removes a connection (`DELETE`). `.notFound` when it is already gone.
    public func deleteConnection(id: String, deadline: ContinuousClock.Instant? = nil) async throws(FivetranError) {
        let route = Route(method: "DELETE", path: "\(collection)/\(segment(id))")
        _ = try await send(route, deadline: deadline ?? callBudget.map { now().advanced(by: $0) })
    }

    // MARK: - Plumbing

    private var collection: String { pathStyle == .current ? "/v1/connections" : "/v1/connectors" }

    private func segment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }

    struct Route {
        var method: String
        var path: String
        var query: [URLQueryItem] = []
        var body: JSONValue? = nil
        var idempotent = true
        /// For messages and logs: method and path, never the query or the host.
        var name: String { "\(method) \(path)" }
        /// For metrics: the path with ids replaced by `{id}` (few distinct values).
        var metricName: String {
            let segments = path.split(separator: "/").map { segment -> String in
                let known = ["v1", "connections", "connectors", "metadata", "connector-types", "connect-card", "sync", "groups"]
                return known.contains(String(segment)) ? String(segment) : "{id}"
            }
            return "\(method) /" + segments.joined(separator: "/")
        }
    }

    private func allPages<Item: Decodable & Sendable>(
        path: String, query: [URLQueryItem], deadline: ContinuousClock.Instant?
    ) async throws(FivetranError) -> [Item] {
        let deadline = deadline ?? callBudget.map { now().advanced(by: $0) }
        var pager = FivetranPager()
        var items: [Item] = []
        while let cursor = pager.nextRequest {
            var pageQuery = query + [URLQueryItem(name: "limit", value: String(FivetranPager.limit))]
            if let cursor { pageQuery.append(URLQueryItem(name: "cursor", value: cursor)) }
            let route = Route(method: "GET", path: path, query: pageQuery)
            let page = try await data(of: route, deadline: deadline, as: Page<Item>.self)
            items += page.items
            guard pager.received(nextCursor: page.nextCursor) else {
                throw .malformedResponse(route: route.name, reason: "the same next_cursor came back twice")
            }
        }
        return items
    }

    private func data<Payload: Decodable>(
        of route: Route, deadline: ContinuousClock.Instant?, as type: Payload.Type
    ) async throws(FivetranError) -> Payload {
        let response = try await send(route, deadline: deadline ?? callBudget.map { now().advanced(by: $0) })
        do {
            let envelope = try JSONDecoder().decode(Envelope<Payload>.self, from: response.body)
            guard let data = envelope.data else {
                throw DecodingError.valueNotFound(
                    Payload.self, .init(codingPath: [], debugDescription: "no data in the envelope"))
            }
            return data
        } catch {
            throw .malformedResponse(route: route.name, reason: Self.summary(of: error))
        }
    }

    /// Sends one route, retrying as the policy says; answers only a 2xx.
    private func send(_ route: Route, deadline: ContinuousClock.Instant?) async throws(FivetranError) -> HTTPResponse {
        let request = makeRequest(route, deadline: deadline)
        var state = FivetranRetryPolicy.State()
        while true {
            let outcome: FivetranRetryPolicy.Outcome
            let failure: FivetranError
            do throws(TransportError) {
                let sent = ContinuousClock.now
                let response: HTTPResponse
                do throws(TransportError) {
                    response = try await transport.send(request)
                } catch {
                    Self.measure(route, status: nil, since: sent)
                    throw error
                }
                Self.measure(route, status: response.status, since: sent)
                if (200..<300).contains(response.status) { return response }
                let retryAfter = FivetranRetryPolicy.parseRetryAfter(response[header: "retry-after"])
                outcome = .status(response.status, retryAfter: retryAfter)
                failure = .from(status: response.status, message: errorMessage(in: response.body), retryAfter: retryAfter)
            } catch {
                outcome = .transportError
                failure = .unreachable(reason: credentials.redact(error.description))
            }
            switch retryPolicy.next(after: outcome, state: &state, idempotent: route.idempotent, now: now(), deadline: deadline) {
            case .fail:
                throw failure
            case .retry(let wait):
                do { try await sleep(wait) } catch { throw .cancelled }
            }
        }
    }

    /// Upstream calls by route (method and path template, never ids) and status, 429s apart.
    static func measure(_ route: Route, status: Int?, since start: ContinuousClock.Instant) {
        let name = route.metricName
        let dimensions = [("upstream", "fivetran"), ("route", name), ("status", status.map { "\($0)" } ?? "error")]
        CoreMetrics.Timer(label: "switchboard_upstream_request_duration_seconds", dimensions: dimensions)
            .record(duration: ContinuousClock.now - start)
        if status == 429 {
            Counter(label: "switchboard_upstream_rate_limited_total", dimensions: [("upstream", "fivetran"), ("route", name)])
                .increment()
        }
    }

    private func makeRequest(_ route: Route, deadline: ContinuousClock.Instant?) -> HTTPRequest {
        var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false) ?? URLComponents()
        components.percentEncodedPath = components.percentEncodedPath + route.path
        components.queryItems = route.query.isEmpty ? nil : route.query
        var headers = [
            "Authorization": credentials.authorization,
            "Accept": "application/json",
            "User-Agent": "switchboard-fivetran/1",
        ]
        var body: Data?
        if let payload = route.body {
            headers["Content-Type"] = "application/json"
            body = try? JSONEncoder().encode(payload)
        }
        var timeout = attemptTimeout
        if let deadline {
            let left = now().duration(to: deadline)
            timeout = max(.seconds(1), min(timeout, left))
        }
        return HTTPRequest(method: route.method, url: components.url!, headers: headers, body: body, timeout: timeout)
    }

    /// The `message` of Fivetran's `{"code","message"}`, with any credential scrubbed out.
    private func errorMessage(in body: Data) -> String? {
        guard let reply = try? JSONDecoder().decode(ErrorReply.self, from: body) else { return nil }
        return reply.message.map(credentials.redact)
    }

    private static func summary(of error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            "missing \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "unexpected value at \(path(context.codingPath)): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            "unreadable JSON at \(path(context.codingPath)): \(context.debugDescription)"
        default:
            "not JSON"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

extension FivetranClient: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "FivetranClient(\(baseURL.absoluteString), \(pathStyle.rawValue) paths)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["baseURL": baseURL, "pathStyle": pathStyle], displayStyle: .struct)
    }
}

/// Key and secret, kept out of every description, mirror and message.
private struct Credentials: Sendable, CustomStringConvertible, CustomReflectable {
    let key: String
    let secret: String
    let authorization: String

    init(key: String, secret: String) {
        self.key = key
        self.secret = secret
        self.authorization = "Basic " + Data("\(key):\(secret)".utf8).base64EncodedString()
    }

    var description: String { "Credentials(redacted)" }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// Removes the secret (and the header built from it) from text that may echo it.
    func redact(_ text: String) -> String {
        var text = text
        for value in [authorization, String(authorization.dropFirst(6)), secret] where value.count >= 4 {
            text = text.replacingOccurrences(of: value, with: "[redacted]")
        }
        return text
    }
}

/// Cursor paging as a value: fed each page's `next_cursor`, it answers the next request or done.
struct FivetranPager: Sendable {
    static let limit = 1000
    /// nil: done; `.some(nil)`: the first page; `.some(cursor)`: the page at that cursor.
    private(set) var nextRequest: String?? = .some(nil)
    private var seen: Set<String> = []

    /// Records a page; false when the cursor repeats (a server bug that would loop for ever).
    mutating func received(nextCursor: String?) -> Bool {
        guard let cursor = nextCursor, !cursor.isEmpty else {
            nextRequest = nil
            return true
        }
        guard seen.insert(cursor).inserted else {
            nextRequest = nil
            return false
        }
        nextRequest = .some(cursor)
        return true
    }
}

package struct Envelope<Payload: Decodable>: Decodable {
    var code: String?
    var message: String?
    var data: Payload?
}

package struct Page<Item: Decodable>: Decodable {
    var items: [Item]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }
}

package struct ConnectCardReply: Decodable {
    var connectorID: String?
    var connectCard: ConnectCard?

    enum CodingKeys: String, CodingKey {
        case connectorID = "connector_id"
        case connectCard = "connect_card"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        connectorID = try container.decodeIfPresent(String.self, forKey: .connectorID)
        connectCard = ConnectCard(try container.decodeIfPresent(JSONValue.self, forKey: .connectCard))
    }
}

package struct ErrorReply: Decodable {
    var code: String?
    var message: String?
}
