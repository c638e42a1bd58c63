import Foundation
import Synchronization

/// The stand-in Fivetran API: routes, the rules of NOTES §4 and the in-memory store behind one
/// lock. `FivetranSandbox` puts it on a socket.
final class FivetranSandboxCore: Sendable {
    let options: FivetranSandbox.Options
    let catalog: FivetranCatalog
    private let seeded: [FivetranConnectionRecord]
    private let state: Mutex<FivetranSandboxState>
    private let ownBase = Mutex<String>("http://127.0.0.1")

    init(options: FivetranSandbox.Options, catalog: FivetranCatalog = .bundled) {
        self.options = options
        self.catalog = catalog
        self.seeded = FivetranSeed.connections(
            count: options.seededConnections, groupID: options.groupID, catalog: catalog, seed: options.seed)
        var initial = FivetranSandboxState()
        for record in seeded { initial.insert(record) }
        initial.latency = options.latency
        self.state = Mutex(initial)
    }

    /// The sandbox's own URL, known once it listens.
    var baseURL: String {
        get { ownBase.withLock { $0 } }
        set { ownBase.withLock { $0 = newValue } }
    }

    private var cardBase: String {
        var base = options.cardBaseURL?.absoluteString ?? baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    // MARK: - Admin (also reachable as Swift calls from tests)

    func reset() {
        state.withLock { state in
            var fresh = FivetranSandboxState()
            for record in seeded { fresh.insert(record) }
            fresh.latency = options.latency
            state = fresh
        }
    }

    func injectFaults(status: Int, count: Int, retryAfter: Int) {
        state.withLock { $0.faults.append(FivetranFault(status: status, remaining: count, retryAfter: retryAfter)) }
    }

    func setLatency(_ latency: Duration) {
        state.withLock { $0.latency = latency }
    }

    func stats() -> [String: Int] {
        state.withLock { $0.stats }
    }

    func received() -> [FivetranReceivedRequest] {
        state.withLock { $0.received }
    }

    func advanceClock(by seconds: TimeInterval) {
        state.withLock { $0.clockOffset += seconds }
    }

    private func now() -> Date {
        Date().addingTimeInterval(state.withLock { $0.clockOffset })
    }

    // MARK: - Routing

    enum Access { case api, open, admin }

    struct Route {
        var method: String
        var pattern: String
        var access: Access
        var segments: [Substring] { pattern.split(separator: "/") }
        var name: String { "\(method) \(pattern)" }
    }

    static let routes: [Route] = [
        Route(method: "GET", pattern: "/v1/metadata/connector-types", access: .api),
        Route(method: "GET", pattern: "/v1/metadata/connectors", access: .api),
        Route(method: "GET", pattern: "/v1/metadata/connector-types/{id}", access: .api),
        Route(method: "GET", pattern: "/public/connector-types", access: .open),
        Route(method: "GET", pattern: "/v1/groups/{id}/connections", access: .api),
        Route(method: "GET", pattern: "/v1/groups/{id}/connectors", access: .api),
        Route(method: "GET", pattern: "/v1/connections", access: .api),
        Route(method: "GET", pattern: "/v1/connectors", access: .api),
        Route(method: "POST", pattern: "/v1/connections", access: .api),
        Route(method: "POST", pattern: "/v1/connectors", access: .api),
        Route(method: "GET", pattern: "/v1/connections/{id}", access: .api),
        Route(method: "GET", pattern: "/v1/connectors/{id}", access: .api),
        Route(method: "PATCH", pattern: "/v1/connections/{id}", access: .api),
        Route(method: "PATCH", pattern: "/v1/connectors/{id}", access: .api),
        Route(method: "DELETE", pattern: "/v1/connections/{id}", access: .api),
        Route(method: "DELETE", pattern: "/v1/connectors/{id}", access: .api),
        Route(method: "POST", pattern: "/v1/connections/{id}/sync", access: .api),
        Route(method: "POST", pattern: "/v1/connectors/{id}/sync", access: .api),
        Route(method: "POST", pattern: "/v1/connections/{id}/connect-card", access: .api),
        Route(method: "POST", pattern: "/v1/connectors/{id}/connect-card", access: .api),
        Route(method: "POST", pattern: "/v1/connectors/{id}/connect-card-token", access: .api),
        Route(method: "GET", pattern: "/icons/{id}", access: .open),
        Route(method: "GET", pattern: "/connect-card/setup", access: .open),
        Route(method: "POST", pattern: "/connect-card/setup", access: .open),
        Route(method: "POST", pattern: "/_sandbox/faults", access: .admin),
        Route(method: "POST", pattern: "/_sandbox/latency", access: .admin),
        Route(method: "GET", pattern: "/_sandbox/stats", access: .admin),
        Route(method: "GET", pattern: "/_sandbox/received", access: .admin),
        Route(method: "POST", pattern: "/_sandbox/reset", access: .admin),
        Route(method: "POST", pattern: "/_sandbox/time", access: .admin),
    ]

    /// The route a path matches and its `{id}`, or the methods the path allows when none matches.
    static func match(method: String, path: String) -> (route: Route, id: String?)? {
        matches(path: path).first { $0.route.method == method }
    }

    static func matches(path: String) -> [(route: Route, id: String?)] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.compactMap { route in
            let pattern = route.segments
            guard pattern.count == parts.count else { return nil }
            var id: String?
            for (want, have) in zip(pattern, parts) {
                if want == "{id}" {
                    id = String(have).removingPercentEncoding ?? String(have)
                } else if want != have {
                    return nil
                }
            }
            return (route, id)
        }
    }

    /// Answers one request; the answer's `delay` is the injected latency, which admin hooks and
    /// unknown routes do not pay.
    func handle(_ request: SandboxRequest) -> SandboxResponse {
        let now = now()
        let candidates = Self.matches(path: request.path)
        guard let (route, id) = candidates.first(where: { $0.route.method == request.method }) else {
            let response: SandboxResponse =
                candidates.isEmpty
                ? .fivetranError(404, "NotFound", "No such endpoint: \(request.method) \(request.path)")
                : .fivetranError(405, "MethodNotAllowed", "\(request.method) is not allowed on \(request.path)")
            return withRateHeaders(response, now: now)
        }
        if route.access == .admin {
            return admin(route, request)
        }
        let delay = state.withLock { state in
            state.stats[route.name, default: 0] += 1
            return state.latency
        }
        var response =
            route.access == .open
            ? withRateHeaders(open(route, id: id, request, now: now), now: now) : api(route, id: id, request, now: now)
        response.delay = delay
        return response
    }

    // MARK: - The API's gate: auth, quota, faults, headers

    private func api(_ route: Route, id: String?, _ request: SandboxRequest, now: Date) -> SandboxResponse {
        guard authorized(request.header("authorization")) else {
            return withRateHeaders(.fivetranError(401, "AuthFailed", "Invalid authorization credentials"), now: now)
        }
        let quota = options.hourlyQuota
        let (remaining, retryAfter, fault) = state.withLock { state -> (Int, Int?, FivetranFault?) in
            let admitted = state.admit(now: now, quota: quota)
            if admitted.retryAfter != nil { return (admitted.remaining, admitted.retryAfter, nil) }
            guard !state.faults.isEmpty else { return (admitted.remaining, nil, nil) }
            let fault = state.faults[0]
            state.faults[0].remaining -= 1
            if state.faults[0].remaining <= 0 { state.faults.removeFirst() }
            return (admitted.remaining, nil, fault)
        }
        var response: SandboxResponse
        if let retryAfter {
            response = .fivetranError(
                429, "TooManyRequests", "The hourly limit of \(quota) API requests is reached; retry after \(retryAfter) seconds."
            )
            response.headers["Retry-After"] = String(retryAfter)
        } else if let fault {
            response = Self.faultResponse(fault)
        } else if !Self.acceptable(request.header("accept")) {
            response = .fivetranError(406, "NotAcceptable", "Accept must allow application/json (optionally ;version=2).")
        } else if request.method == "POST" || request.method == "PATCH", !request.body.isEmpty,
            !Self.isJSON(request.header("content-type"))
        {
            response = .fivetranError(415, "UnsupportedMediaType", "Content-Type must be application/json.")
        } else {
            response = dispatch(route, id: id, request, now: now)
        }
        response.headers["X-Rate-Limit"] = String(quota)
        response.headers["X-Rate-Limit-Remaining"] = String(remaining)
        return response
    }

    private static func faultResponse(_ fault: FivetranFault) -> SandboxResponse {
        var response: SandboxResponse
        switch fault.status {
        case 429:
            response = .fivetranError(429, "TooManyRequests", "Too many requests (injected fault).")
            response.headers["Retry-After"] = String(fault.retryAfter)
        case 503:
            response = .fivetranError(503, "ServiceUnavailable", "Service temporarily unavailable (injected fault).")
            if fault.retryAfter > 0 { response.headers["Retry-After"] = String(fault.retryAfter) }
        default:
            response = .fivetranError(fault.status, "InternalError", "Something went wrong (injected fault).")
        }
        return response
    }

    private func withRateHeaders(_ response: SandboxResponse, now: Date) -> SandboxResponse {
        var response = response
        let quota = options.hourlyQuota
        response.headers["X-Rate-Limit"] = String(quota)
        response.headers["X-Rate-Limit-Remaining"] = String(state.withLock { $0.remaining(now: now, quota: quota) })
        return response
    }

    private func authorized(_ header: String?) -> Bool {
        guard let header, header.count > 6, header.prefix(6).lowercased() == "basic ",
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        else { return false }
        return pair[..<colon] == options.apiKey && pair[pair.index(after: colon)...] == options.apiSecret
    }

    static func acceptable(_ header: String?) -> Bool {
        guard let header, !header.trimmingCharacters(in: .whitespaces).isEmpty else { return true }
        return header.split(separator: ",").contains { part in
            let type = part.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            return type == "*/*" || type == "application/*" || type == "application/json"
        }
    }

    static func isJSON(_ header: String?) -> Bool {
        header?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    // MARK: - API routes

    private func dispatch(_ route: Route, id: String?, _ request: SandboxRequest, now: Date) -> SandboxResponse {
        let legacy = route.pattern.contains("/connectors")
        state.withLock { state in
            state.settle(now: now)
            if route.method != "GET" {
                state.received.append(
                    FivetranReceivedRequest(
                        method: request.method, path: request.path, body: String(decoding: request.body, as: UTF8.self)))
                if state.received.count > 500 { state.received.removeFirst(100) }
            }
        }
        switch (route.method, route.pattern) {
        case ("PATCH", "/v1/connections/{id}"), ("PATCH", "/v1/connectors/{id}"):
            return update(request, id: id ?? "", legacy: legacy)
        case ("DELETE", "/v1/connections/{id}"), ("DELETE", "/v1/connectors/{id}"):
            guard state.withLock({ $0.remove(id ?? "") }) else { return notFound(id) }
            let message = legacy ? "Connector has been deleted" : "Connection has been deleted"
            return .json(200, encoding: ["code": "Success", "message": message])
        case ("POST", "/v1/connections/{id}/sync"), ("POST", "/v1/connectors/{id}/sync"):
            return sync(id: id ?? "", now: now)
        case ("GET", "/v1/metadata/connector-types"), ("GET", "/v1/metadata/connectors"):
            return metadataList(request)
        case ("GET", "/v1/metadata/connector-types/{id}"):
            guard let item = catalog.byID[id ?? ""] else {
                return .fivetranError(404, "NotFound_SourceMetadata", "Connector type '\(id ?? "")' does not exist.")
            }
            return .json(200, encoding: Envelope(code: "Success", message: nil, data: item.absolute(base: baseURL)))
        case ("GET", "/v1/groups/{id}/connections"), ("GET", "/v1/groups/{id}/connectors"):
            guard id == options.groupID else {
                return .fivetranError(404, "NotFound_Group", "Group with id '\(id ?? "")' does not exist.")
            }
            return connectionList(request, group: id)
        case ("GET", "/v1/connections"), ("GET", "/v1/connectors"):
            return connectionList(request, group: request.queryValue("group_id"))
        case ("POST", "/v1/connections"), ("POST", "/v1/connectors"):
            return create(request, legacy: legacy, now: now)
        case ("GET", "/v1/connections/{id}"), ("GET", "/v1/connectors/{id}"):
            guard let record = state.withLock({ $0.connection(id ?? "") }) else { return notFound(id) }
            return .json(200, encoding: Envelope(code: "Success", message: nil, data: record))
        case ("POST", "/v1/connections/{id}/connect-card"), ("POST", "/v1/connectors/{id}/connect-card"):
            return connectCard(request, id: id ?? "", legacy: legacy, now: now)
        case ("POST", "/v1/connectors/{id}/connect-card-token"):
            guard state.withLock({ $0.connection(id ?? "") }) != nil else { return notFound(id) }
            let token = issueToken(for: id ?? "", redirectURI: "", now: now)
            return .json(200, encoding: ["token": token])
        default:
            return .fivetranError(404, "NotFound", "No such endpoint: \(request.method) \(request.path)")
        }
    }

    /// `PATCH`: `paused`, `sync_frequency` (one of `FivetranSandbox.frequencies`),
    /// `schedule_type` (`auto`/`manual`) and `daily_sync_time` (`HH:MM`), each checked; the
    /// first bad one is answered 400 naming it, and nothing changes.
    private func update(_ request: SandboxRequest, id: String, legacy: Bool) -> SandboxResponse {
        let patch: ConnectionPatch
        do {
            patch = try JSONDecoder().decode(ConnectionPatch.self, from: request.body.isEmpty ? Data("{}".utf8) : request.body)
        } catch let error as ConnectionPatch.Invalid {
            return .fivetranError(400, "InvalidInput", error.message)
        } catch {
            return .fivetranError(400, "InvalidInput", "The request body must be a JSON object.")
        }
        let updated: FivetranConnectionRecord? = state.withLock { state in
            state.update(id) { record in
                if let paused = patch.paused {
                    record.paused = paused
                    if record.syncUntil == nil { record.syncState = paused ? "paused" : "scheduled" }
                }
                if let frequency = patch.syncFrequency { record.syncFrequency = frequency }
                if let type = patch.scheduleType { record.scheduleType = type }
                if let time = patch.dailySyncTime { record.dailySyncTime = time }
            }
            return state.connection(id)
        }
        guard let updated else { return notFound(id) }
        let message = legacy ? "Connector has been updated" : "Connection has been updated"
        return .json(200, encoding: Envelope(code: "Success", message: message, data: updated))
    }

    /// `POST …/sync`: 409 while setup is incomplete; otherwise `sync_state` is `syncing` for
    /// `syncDuration`, then back to `scheduled` with `succeeded_at` (or `failed_at` for a broken
    /// connection) at the sync's end.
    private func sync(id: String, now: Date) -> SandboxResponse {
        enum Outcome { case missing, incomplete, started }
        let duration = options.syncDuration
        let outcome = state.withLock { state -> Outcome in
            guard let record = state.connection(id) else { return .missing }
            guard record.setupState != "incomplete" else { return .incomplete }
            state.update(id) { record in
                record.syncState = "syncing"
                record.syncUntil = now.addingTimeInterval(duration)
            }
            state.syncing.insert(id)
            if duration <= 0 { state.settle(now: now) }
            return .started
        }
        switch outcome {
        case .missing:
            return notFound(id)
        case .incomplete:
            return .fivetranError(
                409, "NotAllowed_SetupIncomplete",
                "Connection '\(id)' cannot be synced: its setup is incomplete. Finish the setup (Connect Card) first.")
        case .started:
            return .json(
                200,
                encoding: ["code": "Success", "message": "Sync has been successfully triggered for connection with id '\(id)'"])
        }
    }

    private func notFound(_ id: String?) -> SandboxResponse {
        .fivetranError(404, "NotFound_Connector", "Connector with id '\(id ?? "")' does not exist.")
    }

    struct Envelope<Payload: Encodable>: Encodable {
        var code: String
        var message: String?
        var data: Payload
    }

    struct Page<Item: Encodable>: Encodable {
        var items: [Item]
        var next_cursor: String?
    }

    private struct Cursor: Codable { var skip: Int }

    /// Pages a list the way Fivetran does: `limit` 1…1000 (default 100), an opaque cursor, no
    /// `next_cursor` on the last page.
    func page<Item: Encodable>(_ all: [Item], _ request: SandboxRequest) -> SandboxResponse {
        var limit = 100
        if let text = request.queryValue("limit") {
            guard let value = Int(text), (1...1000).contains(value) else {
                return .fivetranError(400, "InvalidInput", "limit must be a whole number from 1 to 1000, got '\(text)'.")
            }
            limit = value
        }
        var skip = 0
        if let cursor = request.queryValue("cursor"), !cursor.isEmpty {
            guard let decoded = Self.decodeCursor(cursor), decoded <= all.count else {
                return .fivetranError(400, "InvalidInput", "Invalid cursor '\(cursor)'.")
            }
            skip = decoded
        }
        let end = min(all.count, skip + limit)
        let next = end < all.count ? Self.encodeCursor(end) : nil
        return .json(
            200, encoding: Envelope(code: "Success", message: nil, data: Page(items: Array(all[skip..<end]), next_cursor: next)))
    }

    static func encodeCursor(_ skip: Int) -> String {
        Base64URL.encode((try? JSONEncoder().encode(Cursor(skip: skip))) ?? Data())
    }

    static func decodeCursor(_ text: String) -> Int? {
        guard let data = Base64URL.decode(text), let cursor = try? JSONDecoder().decode(Cursor.self, from: data),
            cursor.skip >= 0
        else { return nil }
        return cursor.skip
    }

    private func metadataList(_ request: SandboxRequest) -> SandboxResponse {
        let base = baseURL
        return page(catalog.items.map { $0.absolute(base: base) }, request)
    }

    private func connectionList(_ request: SandboxRequest, group: String?) -> SandboxResponse {
        let schema = request.queryValue("schema")
        let records = state.withLock { state in
            state.connections.filter { record in
                (group == nil || record.groupID == group) && (schema == nil || record.schema == schema)
            }
        }
        return page(records, request)
    }

    private func create(_ request: SandboxRequest, legacy: Bool, now: Date) -> SandboxResponse {
        guard let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any] else {
            return .fivetranError(400, "InvalidInput", "The request body must be a JSON object.")
        }
        guard let service = body["service"] as? String, !service.isEmpty else {
            return .fivetranError(400, "InvalidInput", "Missing required field 'service'.")
        }
        guard let group = body["group_id"] as? String, !group.isEmpty else {
            return .fivetranError(400, "InvalidInput", "Missing required field 'group_id'.")
        }
        guard let format = catalog.schemaFormats[service] else {
            return .fivetranError(400, "InvalidInput", "Unknown service '\(service)'.")
        }
        guard group == options.groupID else {
            return .fivetranError(404, "NotFound_Group", "Group with id '\(group)' does not exist.")
        }
        let config = body["config"] as? [String: Any] ?? [:]
        var names: [String: String] = [:]
        for key in format.requiredKeys {
            guard let value = config[key] as? String, !value.isEmpty else {
                return .fivetranError(
                    400, "InvalidInput",
                    "Missing required field 'config.\(key)' (service '\(service)' uses the \(format.rawValue) schema format).")
            }
            names[key] = value
        }
        var cardConfig: [String: String]?
        if let raw = body["connect_card_config"] {
            guard let object = raw as? [String: Any], let uri = object["redirect_uri"] as? String, Self.isWebURL(uri) else {
                return .fivetranError(
                    400, "InvalidInput", "connect_card_config.redirect_uri is required and must start with http:// or https://.")
            }
            cardConfig = ["redirect_uri": uri]
            if object["hide_setup_guide"] as? Bool == true { cardConfig?["hide_setup_guide"] = "true" }
        }
        let schema = format.connectionName(names)
        let paused = body["paused"] as? Bool ?? false
        let frequency = body["sync_frequency"] as? Int ?? 360
        let created: FivetranConnectionRecord? = state.withLock { state in
            guard !state.connections.contains(where: { $0.groupID == group && $0.schema == schema }) else { return nil }
            state.counter += 1
            var id =
                FivetranSeed.adjectives[(state.counter * 7) % FivetranSeed.adjectives.count] + "_"
                + FivetranSeed.nouns[(state.counter * 13 + 5) % FivetranSeed.nouns.count]
            if state.index[id] != nil { id += "_\(state.counter)" }
            while state.index[id] != nil { id += "x" }
            let record = FivetranConnectionRecord(
                id: id, groupID: group, service: service, schema: schema, config: names, paused: paused,
                syncFrequency: frequency, createdAt: now, succeededAt: nil, failedAt: nil, setupState: "incomplete",
                syncState: "scheduled", updateState: "on_schedule", isHistoricalSync: true,
                connectCardConfig: cardConfig, connectCard: nil)
            state.insert(record)
            return record
        }
        guard var record = created else {
            return .fivetranError(409, "Conflict", "A connection with schema '\(schema)' already exists in group '\(group)'.")
        }
        if let cardConfig {
            let token = issueToken(for: record.id, redirectURI: cardConfig["redirect_uri"] ?? "", now: now)
            record.connectCard = (token, cardURI(token: token, config: cardConfig))
        }
        return .json(
            201,
            encoding: Envelope(
                code: "Success", message: legacy ? "Connector has been created" : "Connection has been created", data: record))
    }

    private struct CardData: Encodable {
        var connector_id: String
        var connect_card: [String: String]
        var connect_card_config: [String: String]
    }

    private func connectCard(_ request: SandboxRequest, id: String, legacy: Bool, now: Date) -> SandboxResponse {
        let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any]
        guard let object = body?["connect_card_config"] as? [String: Any], let uri = object["redirect_uri"] as? String,
            Self.isWebURL(uri)
        else {
            return .fivetranError(
                400, "InvalidInput", "connect_card_config.redirect_uri is required and must start with http:// or https://.")
        }
        guard state.withLock({ $0.connection(id) }) != nil else { return notFound(id) }
        var config = ["redirect_uri": uri]
        if object["hide_setup_guide"] as? Bool == true { config["hide_setup_guide"] = "true" }
        let token = issueToken(for: id, redirectURI: uri, now: now)
        let data = CardData(
            connector_id: id, connect_card: ["token": token, "uri": cardURI(token: token, config: config)],
            connect_card_config: config)
        let message = legacy ? "Connector Connect Card has been created" : "Connection Connect Card has been created"
        return .json(200, encoding: Envelope(code: "Success", message: message, data: data))
    }

    static func isWebURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), url.host != nil else { return false }
        return scheme == "http" || scheme == "https"
    }

    /// A fresh, unique, JWT-looking token valid for 24 hours.
    private func issueToken(for id: String, redirectURI: String, now: Date) -> String {
        let expires = now.addingTimeInterval(24 * 3600)
        return state.withLock { state in
            state.counter += 1
            let payload = #"{"cid":"\#(id)","exp":\#(Int(expires.timeIntervalSince1970)),"n":\#(state.counter)}"#
            let random = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            let token = "eyJhbGciOiJIUzI1NiJ9." + Base64URL.encode(Data(payload.utf8)) + "." + random
            state.tokens[token] = FivetranCardToken(connectionID: id, redirectURI: redirectURI, expires: expires)
            return token
        }
    }

    private func cardURI(token: String, config: [String: String]) -> String {
        var uri = "\(cardBase)/connect-card/setup?redirect_uri=\(Self.queryEncode(config["redirect_uri"] ?? ""))&auth=\(token)"
        if config["hide_setup_guide"] == "true" { uri += "&hide_setup_guide=true" }
        return uri
    }

    static func queryEncode(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(
                charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? text
    }

    // MARK: - Open routes: icons and the Connect Card stand-in

    private func open(_ route: Route, id: String?, _ request: SandboxRequest, now: Date) -> SandboxResponse {
        switch (route.method, route.pattern) {
        case ("GET", "/public/connector-types"):
            return metadataList(request)
        case ("GET", "/icons/{id}"):
            let name = id ?? ""
            guard name.hasSuffix(".svg"), let svg = catalog.iconSVG(for: String(name.dropLast(4))) else {
                return .fivetranError(404, "NotFound", "No icon '\(name)'.")
            }
            return SandboxResponse(
                status: 200, headers: ["Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"],
                body: Data(svg.utf8))
        case ("GET", "/connect-card/setup"):
            return cardPage(Self.fields(request.queryItems), now: now)
        default:
            return cardSubmit(Self.fields(SandboxRequest.formItems(String(decoding: request.body, as: UTF8.self))), now: now)
        }
    }

    private func validToken(_ token: String?, now: Date) -> (FivetranCardToken, FivetranConnectionRecord)? {
        state.withLock { state in
            guard let token, let entry = state.tokens[token], entry.expires > now,
                let record = state.connection(entry.connectionID)
            else { return nil }
            return (entry, record)
        }
    }

    private func cardPage(_ query: [String: String], now: Date) -> SandboxResponse {
        guard let (entry, record) = validToken(query["auth"], now: now) else { return FivetranConnectCardPage.invalid() }
        let redirect = query["redirect_uri"].flatMap { $0.isEmpty ? nil : $0 } ?? entry.redirectURI
        let name = catalog.byID[record.service]?.name ?? record.service
        return FivetranConnectCardPage.setup(
            connectorName: name, schema: record.schema, setupState: record.setupState, token: query["auth"] ?? "",
            redirectURI: redirect, icon: "\(baseURL)/icons/\(record.service).svg")
    }

    private func cardSubmit(_ form: [String: String], now: Date) -> SandboxResponse {
        guard let (entry, record) = validToken(form["auth"], now: now) else { return FivetranConnectCardPage.invalid() }
        state.withLock { state in
            state.update(record.id) { record in
                record.setupState = "connected"
                record.succeededAt = now
                record.failedAt = nil
                record.paused = false
                record.syncState = "scheduled"
            }
        }
        let redirect = form["redirect_uri"].flatMap { $0.isEmpty ? nil : $0 } ?? entry.redirectURI
        guard Self.isWebURL(redirect) else {
            return FivetranConnectCardPage.done(connectorName: catalog.byID[record.service]?.name ?? record.service)
        }
        let location = redirect + (redirect.contains("?") ? "&" : "?") + "id=" + Self.queryEncode(record.id)
        return SandboxResponse(status: 302, headers: ["Location": location, "Content-Type": "text/plain"])
    }

    /// Name to value, the first of a repeated name winning (as Fivetran reads its parameters).
    static func fields(_ items: [(name: String, value: String)]) -> [String: String] {
        Dictionary(items.map { ($0.name, $0.value) }) { first, _ in first }
    }

    // MARK: - /_sandbox/ hooks

    private func admin(_ route: Route, _ request: SandboxRequest) -> SandboxResponse {
        let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any] ?? [:]
        switch route.pattern {
        case "/_sandbox/faults":
            guard let status = body["status"] as? Int, (400...599).contains(status) else {
                return .fivetranError(400, "InvalidInput", #"Send {"status":429|500|503,"count":N,"retry_after":S}."#)
            }
            let count = body["count"] as? Int ?? 1
            injectFaults(status: status, count: max(1, count), retryAfter: body["retry_after"] as? Int ?? 1)
            return .json(200, encoding: ["queued": max(1, count)])
        case "/_sandbox/latency":
            guard let ms = body["ms"] as? Int, ms >= 0 else { return .fivetranError(400, "InvalidInput", #"Send {"ms":N}."#) }
            setLatency(.milliseconds(ms))
            return .json(200, encoding: ["ms": ms])
        case "/_sandbox/stats":
            return .json(200, encoding: stats())
        case "/_sandbox/received":
            return .json(200, encoding: ["received": received().map { ["method": $0.method, "path": $0.path, "body": $0.body] }])
        case "/_sandbox/time":
            guard let seconds = body["advance_seconds"] as? Double else {
                return .fivetranError(400, "InvalidInput", #"Send {"advance_seconds":N}."#)
            }
            advanceClock(by: seconds)
            return .json(200, encoding: ["advanced_seconds": seconds])
        default:
            reset()
            return .json(200, encoding: ["reset": true])
        }
    }
}

/// The body of `PATCH /v1/connections/{id}`, checked field by field as Fivetran does.
struct ConnectionPatch: Decodable {
    struct Invalid: Error { let message: String }

    var paused: Bool?
    var syncFrequency: Int?
    var scheduleType: String?
    var dailySyncTime: String?

    private enum Key: String, CodingKey { case paused, sync_frequency, schedule_type, daily_sync_time }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func field<T: Decodable>(_ key: Key, _ type: T.Type, _ problem: String) throws -> T? {
            do { return try c.decodeIfPresent(type, forKey: key) } catch { throw Invalid(message: problem) }
        }
        paused = try field(.paused, Bool.self, "Invalid value for 'paused': must be true or false.")
        let allowed = FivetranSandbox.frequencies.map(String.init).joined(separator: ", ")
        let frequencyProblem = "Invalid value for 'sync_frequency': must be one of \(allowed) (minutes)."
        syncFrequency = try field(.sync_frequency, Int.self, frequencyProblem)
        if let minutes = syncFrequency, !FivetranSandbox.frequencies.contains(minutes) {
            throw Invalid(message: frequencyProblem + " Got \(minutes).")
        }
        scheduleType = try field(.schedule_type, String.self, "Invalid value for 'schedule_type': must be auto or manual.")
        if let type = scheduleType, type != "auto", type != "manual" {
            throw Invalid(message: "Invalid value for 'schedule_type': must be auto or manual.")
        }
        let timeProblem = "Invalid value for 'daily_sync_time': must be HH:MM, such as 03:00."
        dailySyncTime = try field(.daily_sync_time, String.self, timeProblem)
        if let time = dailySyncTime {
            let parts = time.split(separator: ":")
            guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m)
            else { throw Invalid(message: timeProblem) }
        }
    }
}
