import Foundation

/// The `/_sandbox/` hooks: data changes, fault injection, stats and ground truth. No auth; the
/// server only listens on loopback.
extension FrontCore {
    private struct Body {
        var dict: [String: Any]
        func int(_ key: String) -> Int? { (dict[key] as? NSNumber)?.intValue ?? (dict[key] as? String).flatMap { Int($0) } }
        func string(_ key: String) -> String? { dict[key] as? String }
        func strings(_ key: String) -> [String]? { dict[key] as? [String] }
    }

    private static let changeTypes: [FrontEventType] = [.assign, .unassign, .tag, .untag, .archive, .reopen]

    func handleAdmin(_ request: SandboxRequest, state: inout FrontState, now: Double) -> SandboxResponse {
        let route =
            request.method + " "
            + (request.path.hasSuffix("/") && request.path.count > 1 ? String(request.path.dropLast()) : request.path)
        var body = Body(dict: [:])
        if !request.body.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: request.body), let dict = object as? [String: Any] else {
                return .frontBadRequest("Body must be a JSON object")
            }
            body = Body(dict: dict)
        }
        let base = state.base
        switch route {
        case "GET /_sandbox":
            return .json(200, .object([("routes", .array(Self.adminRoutes.map(FrontJSON.string)))]))

        case "GET /_sandbox/stats":
            return .json(200, .object(state.stats.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }))

        case "POST /_sandbox/stats/reset":
            state.stats = FrontState.emptyStats(options.companyIDs)
            return .json(200, .object([("ok", .bool(true))]))

        case "POST /_sandbox/ratelimit/reset":
            for id in state.limiters.keys { state.limiters[id]?.reset(now: now) }
            return .json(200, .object([("ok", .bool(true))]))

        case "GET /_sandbox/truth":
            return .json(200, truth(state.world))

        case "POST /_sandbox/conversations/change":
            let requested = body.string("change") ?? "random"
            var fixed: FrontEventType?
            if requested != "random" {
                guard let t = FrontEventType(rawValue: requested), Self.changeTypes.contains(t) else {
                    return .frontBadRequest("change must be one of assign, unassign, tag, untag, archive, reopen, random")
                }
                fixed = t
            }
            var events: [Int] = []
            if body.strings("ids") != nil {
                // Named conversations get the change even when it is a no-op for one (archiving an
                // archived conversation): that one emits no event, as in Front.
                let targets: [Int]
                switch pick(body, kind: .conversation, total: state.world.conversations.count, world: &state.world) {
                case .failure(let e): return e
                case .success(let t): targets = t
                }
                for c in targets {
                    let type = fixed ?? state.world.mutationRNG.pick(Self.changeTypes)
                    if let e = state.world.change(conversation: c, type) { events.append(e) }
                }
            } else {
                // `count` conversations changed: distinct ones in a seeded order, passing over those
                // the change would leave as they are (most seeds archive some conversations).
                let wanted = max(0, body.int("count") ?? 1)
                let total = state.world.conversations.count
                for c in state.world.pickIndices(total, of: total) {
                    guard events.count < wanted else { break }
                    let type = fixed ?? state.world.mutationRNG.pick(Self.changeTypes)
                    if let e = state.world.change(conversation: c, type) { events.append(e) }
                }
            }
            return .json(200, changed(events, world: state.world))

        case "POST /_sandbox/messages":
            let type = FrontEventType(rawValue: body.string("type") ?? "inbound") ?? .inbound
            guard type.addsActivity else { return .frontBadRequest("type must be inbound, outbound, out_reply or comment") }
            let targets: [Int]
            switch pick(body, kind: .conversation, total: state.world.conversations.count, world: &state.world) {
            case .failure(let e): return e
            case .success(let t): targets = t
            }
            let events = targets.compactMap { state.world.change(conversation: $0, type) }
            return .json(200, changed(events, world: state.world))

        case "POST /_sandbox/conversations":
            let count = max(0, body.int("count") ?? 1)
            var events: [Int] = []
            for _ in 0..<count {
                _ = state.world.addConversation()
                events.append(state.world.events.count - 1)
            }
            return .json(200, changed(events, world: state.world))

        case "POST /_sandbox/contacts/update":
            let targets: [Int]
            switch pick(body, kind: .contact, total: state.world.contacts.count, world: &state.world) {
            case .failure(let e): return e
            case .success(let t): targets = t
            }
            for j in targets { state.world.touchContact(j) }
            return .json(
                200, .object([("contacts", .array(targets.map { updated(.contact, $0, state.world.contacts[$0].updatedAt) }))]))

        case "POST /_sandbox/contacts":
            let added = (0..<max(0, body.int("count") ?? 1)).map { _ in state.world.addContact() }
            return .json(
                200, .object([("contacts", .array(added.map { updated(.contact, $0, state.world.contacts[$0].updatedAt) }))]))

        case "POST /_sandbox/tags":
            let names = body.strings("names") ?? []
            let count = max(names.count, body.int("count") ?? (names.isEmpty ? 1 : 0))
            let added = (0..<count).map { state.world.addTag(name: $0 < names.count ? names[$0] : nil) }
            return .json(200, .object([("tags", .array(added.map { updated(.tag, $0, state.world.tags[$0].updatedAt) }))]))

        case "POST /_sandbox/tags/delete":
            let live = state.world.tags.indices.filter { state.world.tags[$0].deletedAt == nil }
            let targets: [Int]
            if let ids = body.strings("ids") {
                let found = ids.map { FrontKind.tag.index(of: $0, count: state.world.tags.count) }
                if let missing = zip(ids, found).first(where: { $0.1 == nil })?.0 {
                    return .frontNotFound("Unknown tag ID \(missing)")
                }
                targets = found.compactMap { $0 }
            } else {
                let n = body.int("count") ?? 1
                var shuffled = live
                shuffled.shuffle(using: &state.world.mutationRNG)
                targets = Array(shuffled.prefix(max(0, n)))
            }
            for t in targets { state.world.deleteTag(t) }
            return .json(200, .object([("deleted", .array(targets.map { .string(FrontKind.tag.id($0)) }))]))

        case "GET /_sandbox/faults":
            return .json(200, .object([("faults", .array(state.faults.map(faultJSON)))]))

        case "POST /_sandbox/faults":
            let status = body.int("status")
            let latency = body.int("latency_ms")
            var headers: SandboxHeaders?
            if let raw = body.dict["headers"] {
                switch Self.headerOverrides(raw) {
                case .failure(let e): return e
                case .success(let h): headers = h
                }
            }
            var corruption: FrontTimestampCorruption?
            if let raw = body.dict["corrupt_timestamps"] {
                guard let text = raw as? String, let c = FrontTimestampCorruption(rawValue: text) else {
                    return .frontBadRequest(
                        "corrupt_timestamps must be one of \(FrontTimestampCorruption.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                corruption = c
            }
            guard status != nil || latency != nil || headers != nil || corruption != nil else {
                return .frontBadRequest("Give status (429, 500, 503…), latency_ms, headers and/or corrupt_timestamps")
            }
            if let status, !(400...599).contains(status) { return .frontBadRequest("status must be 4xx or 5xx") }
            let prefix = body.string("route_prefix")
            let count = body.int("count")
            if status != nil {
                // Headers given with a status go on that injected answer (retry-after on a 429, say).
                state.faults.append(
                    FrontFault(
                        status: status, retryAfter: body.int("retry_after"), latencyMs: nil,
                        remaining: count ?? 1, routePrefix: prefix, headers: headers))
            } else if let headers {
                state.faults.append(
                    FrontFault(
                        status: nil, retryAfter: nil, latencyMs: nil, remaining: count, routePrefix: prefix,
                        headers: headers))
            }
            if let latency {
                state.faults.append(
                    FrontFault(status: nil, retryAfter: nil, latencyMs: max(0, latency), remaining: count, routePrefix: prefix))
            }
            if let corruption {
                state.faults.append(
                    FrontFault(
                        status: nil, retryAfter: nil, latencyMs: nil, remaining: count, routePrefix: prefix,
                        corruptTimestamps: corruption))
            }
            return .json(200, .object([("faults", .array(state.faults.map(faultJSON)))]))

        case "DELETE /_sandbox/faults", "POST /_sandbox/faults/clear":
            state.faults.removeAll()
            return .json(200, .object([("faults", .array([]))]))

        default:
            _ = base
            return .frontNotFound("Unknown sandbox route \(route); GET /_sandbox lists them")
        }
    }

    static let adminRoutes = [
        "GET /_sandbox/stats", "POST /_sandbox/stats/reset", "GET /_sandbox/truth", "POST /_sandbox/ratelimit/reset",
        "POST /_sandbox/conversations/change {count|ids, change: assign|unassign|tag|untag|archive|reopen|random}",
        "POST /_sandbox/messages {count|ids, type: inbound|outbound|out_reply|comment}",
        "POST /_sandbox/conversations {count}", "POST /_sandbox/contacts/update {count|ids}", "POST /_sandbox/contacts {count}",
        "POST /_sandbox/tags {count, names}", "POST /_sandbox/tags/delete {count|ids}",
        "GET /_sandbox/faults", "POST /_sandbox/faults {status, count, retry_after, latency_ms, route_prefix}",
        "POST /_sandbox/faults {headers: {name: value}, count, route_prefix}: set or override response headers"
            + " (x-ratelimit-limit, -remaining, -reset, retry-after: nan, inf, 1e400, -5, empty…); with status, on that answer",
        "POST /_sandbox/faults {corrupt_timestamps: nan|inf|1e400|-1|huge, count, route_prefix}: every numeric timestamp"
            + " in a list's _results written as NaN, Infinity, 1e400, -1 or 9223372036854775807",
        "(count: status faults default to 1; latency, headers and corrupt_timestamps last until DELETE)",
        "DELETE /_sandbox/faults",
    ]

    private func pick(_ body: Body, kind: FrontKind, total: Int, world: inout FrontWorld) -> Result<[Int], SandboxResponse> {
        if let ids = body.strings("ids") {
            var out: [Int] = []
            for id in ids {
                guard let i = kind.index(of: id, count: total) else { return .failure(.frontNotFound("Unknown ID \(id)")) }
                out.append(i)
            }
            return .success(out)
        }
        return .success(world.pickIndices(body.int("count") ?? 1, of: total))
    }

    private func updated(_ kind: FrontKind, _ i: Int, _ at: Int64) -> FrontJSON {
        .object([("id", .string(kind.id(i))), ("updated_at", .time(at))])
    }

    private func changed(_ events: [Int], world: FrontWorld) -> FrontJSON {
        var seen = Set<Int>()
        var convs: [FrontJSON] = []
        for e in events where seen.insert(world.events[e].conversation).inserted {
            let c = world.events[e].conversation
            convs.append(updated(.conversation, c, world.conversations[c].updatedAt))
        }
        return .object([
            ("conversations", .array(convs)),
            (
                "events",
                .array(
                    events.map { e in
                        let ev = world.events[e]
                        return .object([
                            ("id", .string(FrontKind.event.id(e))), ("type", .string(ev.type.rawValue)),
                            ("conversation_id", .string(FrontKind.conversation.id(ev.conversation))),
                            ("emitted_at", .time(ev.at)),
                        ])
                    })
            ),
        ])
    }

    private func faultJSON(_ f: FrontFault) -> FrontJSON {
        .object([
            ("status", f.status.map(FrontJSON.int) ?? .null), ("retry_after", f.retryAfter.map(FrontJSON.int) ?? .null),
            ("latency_ms", f.latencyMs.map(FrontJSON.int) ?? .null), ("remaining", f.remaining.map(FrontJSON.int) ?? .null),
            ("route_prefix", .str(f.routePrefix)),
            ("headers", f.headers.map { .object($0.map { ($0.0, .string($0.1)) }) } ?? .null),
            ("corrupt_timestamps", .str(f.corruptTimestamps?.rawValue)),
        ])
    }

    /// `{"name": "value", …}` with HTTP token names and values without line breaks (numbers are
    /// taken as their text), in name order so the fault list reads the same every time.
    private static func headerOverrides(_ raw: Any) -> Result<SandboxHeaders, SandboxResponse> {
        guard let dict = raw as? [String: Any] else {
            return .failure(.frontBadRequest("headers must be an object of header name to value"))
        }
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var out: SandboxHeaders = [:]
        for (name, value) in dict.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, name.allSatisfy(tokenCharacters.contains) else {
                return .failure(.frontBadRequest("Header name \(name) is not an HTTP token"))
            }
            let text: String
            if let s = value as? String {
                text = s
            } else if let n = value as? NSNumber {
                text = n.stringValue
            } else {
                return .failure(.frontBadRequest("Header \(name) must have a string value"))
            }
            guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
                return .failure(.frontBadRequest("Header \(name) must not contain control characters"))
            }
            out[name.lowercased()] = text
        }
        return .success(out)
    }

    /// What a complete, up-to-date capture must hold: every current id with its cursor field.
    func truth(_ w: FrontWorld) -> FrontJSON {
        func ids(_ kind: FrontKind, _ count: Int) -> FrontJSON { .array((0..<count).map { .string(kind.id($0)) }) }
        let liveTags = w.tags.indices.filter { w.tags[$0].deletedAt == nil }
        return .object([
            ("channels", ids(.channel, w.channels.count)),
            ("inboxes", ids(.inbox, w.inboxes.count)),
            ("teammates", ids(.teammate, w.teammates.count)),
            ("teams", ids(.team, w.teams.count)),
            ("accounts", ids(.account, w.accounts.count)),
            ("tags", .array(liveTags.map { updated(.tag, $0, w.tags[$0].updatedAt) })),
            (
                "deleted_tag_ids",
                .array(w.tags.indices.filter { w.tags[$0].deletedAt != nil }.map { .string(FrontKind.tag.id($0)) })
            ),
            ("contacts", .array(w.contacts.indices.map { updated(.contact, $0, w.contacts[$0].updatedAt) })),
            (
                "conversations",
                .array(
                    w.conversations.indices.map { c in
                        let v = w.conversations[c]
                        return .object([
                            ("id", .string(FrontKind.conversation.id(c))), ("updated_at", .time(v.updatedAt)),
                            ("last_activity_at", .time(v.lastActivity)), ("status", .string(v.status.rawValue)),
                        ])
                    })
            ),
            (
                "events",
                .array(
                    w.events.indices.map { e in
                        .object([("id", .string(FrontKind.event.id(e))), ("emitted_at", .time(w.events[e].at))])
                    })
            ),
        ])
    }
}
