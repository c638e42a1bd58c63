import Foundation

/// List endpoints: parsing `limit`/`page_token`/`sort_*`/`q[...]`, keyset paging, the envelope.
extension FrontCore {
    private enum Outcome {
        case page(items: [FrontJSON], next: FrontPagePosition?, total: Int?)
        case failure(SandboxResponse)
    }

    /// Takes up to `n` matching indices, then says whether at least one more match follows.
    private static func take(_ seq: some Sequence<Int>, _ n: Int, where ok: (Int) -> Bool) -> (items: [Int], more: Bool) {
        var items: [Int] = []
        items.reserveCapacity(n)
        for i in seq where ok(i) {
            if items.count == n { return (items, true) }
            items.append(i)
        }
        return (items, false)
    }

    /// Indices of `order` (ascending by (key, index)) strictly after `after` in the traversal
    /// direction: keyset paging, so a change between pages neither repeats nor skips the rest.
    private static func traverse(_ order: [Int], key: (Int) -> Int64, ascending: Bool, after: (Int64, Int)?) -> AnySequence<Int> {
        // First position whose (key, index) is > bound (strict) or >= bound.
        func lowerBound(_ bound: (Int64, Int), strict: Bool) -> Int {
            var lo = 0
            var hi = order.count
            while lo < hi {
                let mid = (lo + hi) / 2
                let k = (key(order[mid]), order[mid])
                if strict ? k > bound : k >= bound { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
        if ascending {
            let start = after.map { lowerBound($0, strict: true) } ?? 0
            return AnySequence(order[start...])
        }
        let end = after.map { lowerBound($0, strict: false) } ?? order.count
        return AnySequence(order[..<end].reversed())
    }

    private static func parseOrder(_ items: [(name: String, value: String)], default ascending: Bool) -> Bool? {
        guard let value = items.last(where: { $0.name == "sort_order" })?.value else { return ascending }
        switch value.lowercased() {
        case "asc": return true
        case "desc": return false
        default: return nil
        }
    }

    private static func values(_ items: [(name: String, value: String)], _ name: String) -> Set<String> {
        Set(
            items.filter { $0.name == name || $0.name == name + "[]" }.flatMap { $0.value.split(separator: ",").map(String.init) }
        )
    }

    /// Parses the first page's params (later pages take them from the stored cursor).
    private func parseQuery(_ route: String, _ items: [(name: String, value: String)], segments: [String]) -> Result<
        FrontListQuery, SandboxResponse
    > {
        var q = FrontListQuery()
        let sortBy = items.last(where: { $0.name == "sort_by" })?.value
        func time(_ name: String) -> Result<Double?, SandboxResponse> {
            guard let text = items.last(where: { $0.name == name })?.value else { return .success(nil) }
            guard let ms = FrontTime.parseSeconds(text) else {
                return .failure(.frontBadRequest("\(name) must be a UNIX timestamp in seconds"))
            }
            return .success(ms)
        }
        func order(_ defaultAscending: Bool) -> SandboxResponse? {
            guard let asc = Self.parseOrder(items, default: defaultAscending) else {
                return .frontBadRequest("sort_order must be asc or desc")
            }
            q.ascending = asc
            return nil
        }
        switch route {
        case "events":
            if let sortBy, sortBy != "created_at" { return .failure(.frontBadRequest("sort_by must be created_at")) }
            if let e = order(false) { return .failure(e) }
            switch (time("q[after]"), time("q[before]")) {
            case (.failure(let e), _), (_, .failure(let e)): return .failure(e)
            case (.success(let a), .success(let b)):
                q.afterMs = a
                q.beforeMs = b
            }
            q.types = Self.values(items, "q[types]")
            q.inboxes = Self.values(items, "q[inboxes]")
        case "contacts":
            if let sortBy, sortBy != "updated_at", sortBy != "created_at" {
                return .failure(.frontBadRequest("sort_by must be updated_at or created_at"))
            }
            q.sortByUpdated = sortBy != "created_at"
            if let e = order(false) { return .failure(e) }
            switch (time("q[updated_after]"), time("q[updated_before]")) {
            case (.failure(let e), _), (_, .failure(let e)): return .failure(e)
            case (.success(let a), .success(let b)):
                q.afterMs = a
                q.beforeMs = b
            }
        case "conversations":
            if let sortBy, sortBy != "date" { return .failure(.frontBadRequest("sort_by must be date")) }
            if let e = order(false) { return .failure(e) }
            q.statuses = Self.values(items, "q[statuses]")
            let known = Set(["assigned", "unassigned", "archived", "trashed", "deleted"])
            if let bad = q.statuses.first(where: { !known.contains($0) }) {
                return .failure(.frontBadRequest("Unknown status \(bad)"))
            }
        case "conversations/search":
            let text = segments.count > 2 ? segments[2] : ""
            for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
                let parts = token.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else {
                    q.searchTerms.append(token.lowercased())
                    continue
                }
                let value = String(parts[1])
                switch parts[0].lowercased() {
                case "after", "before":
                    guard let ms = FrontTime.parseSeconds(value) else {
                        return .failure(.frontBadRequest("Invalid search filter \(token)"))
                    }
                    if parts[0].lowercased() == "after" { q.afterMs = ms } else { q.beforeMs = ms }
                case "is": q.searchIs.insert(value.lowercased())
                case "tag": q.searchTags.insert(value)
                case "inbox": q.searchInboxes.insert(value)
                default: q.searchTerms.append(token.lowercased())
                }
            }
        case "tags":
            if let sortBy, sortBy != "id" { return .failure(.frontBadRequest("sort_by must be id")) }
            if let e = order(true) { return .failure(e) }
        case "accounts":
            if let sortBy, sortBy != "created_at", sortBy != "updated_at" {
                return .failure(.frontBadRequest("sort_by must be created_at or updated_at"))
            }
            if let e = order(true) { return .failure(e) }
        default:
            q.ascending = true
        }
        return .success(q)
    }

    func list(route: RouteInfo, segments: [String], request: SandboxRequest, state: inout FrontState) -> SandboxResponse {
        let items = request.queryItems
        let resource = route.resource
        let maxLimit = resource == "events" ? 15 : 100
        let defaultLimit = resource == "events" ? 15 : 50
        var requested: Int?
        for item in items where item.name == "limit" {
            guard let n = Int(item.value.trimmingCharacters(in: .whitespaces)) else {
                return .frontBadRequest("limit must be an integer")
            }
            requested = requested ?? n
        }
        let clamp = { (n: Int) in min(max(1, n), maxLimit) }
        let query: FrontListQuery
        let limit: Int
        let page: Int
        let position: FrontPagePosition?
        if let token = items.last(where: { $0.name == "page_token" })?.value, !token.isEmpty {
            guard let cursor = state.cursors[token], cursor.route == route.name else {
                return .frontBadRequest("Invalid page_token \(token)")
            }
            (query, page, position) = (cursor.query, cursor.page, cursor.position)
            limit = requested.map(clamp) ?? cursor.limit
        } else {
            switch parseQuery(resource, items, segments: segments) {
            case .failure(let e): return e
            case .success(let q): query = q
            }
            (limit, page, position) = (clamp(requested ?? defaultLimit), 0, nil)
        }
        let size = options.shortPages && page % 2 == 1 ? max(1, limit / 2) : limit
        let base = state.base

        let outcome: Outcome
        switch resource {
        case "events": outcome = events(query, size: size, position: position, state: &state)
        case "contacts": outcome = contacts(query, size: size, position: position, state: &state)
        case "conversations": outcome = conversations(query, size: size, position: position, state: &state)
        case "conversations/search": outcome = search(query, size: size, position: position, state: &state)
        default: outcome = snapshot(resource, query, size: size, position: position, state: state)
        }
        guard case .page(let results, let nextPosition, let total) = outcome else {
            if case .failure(let e) = outcome { return e }
            return .frontBadRequest("Bad request")
        }
        var next: FrontJSON = .null
        if let nextPosition {
            let token = issueToken(
                FrontStoredCursor(route: route.name, limit: limit, page: page + 1, query: query, position: nextPosition),
                state: &state)
            next = .string("\(base)\(request.path)?limit=\(limit)&page_token=\(token)")
        }
        var rendered = FrontJSON.array(results)
        if let i = state.faults.firstIndex(where: { $0.corruptTimestamps != nil && $0.isLive && $0.matches(request.path) }),
            let corruption = state.faults[i].corruptTimestamps
        {
            rendered = rendered.replacingTimes(with: corruption.literal)
            state.stats["timestamps corrupted", default: 0] += 1
            consume(&state.faults, i)
        }
        var envelope: [(String, FrontJSON)] = [
            ("_pagination", .object([("next", next)])),
            ("_links", .object([("self", .string(base + request.path + (request.query.isEmpty ? "" : "?" + request.query)))])),
            ("_results", rendered),
        ]
        if let total { envelope.append(("_total", .int(total))) }
        return .json(200, .object(envelope))
    }

    private func snapshot(_ resource: String, _ q: FrontListQuery, size: Int, position: FrontPagePosition?, state: FrontState)
        -> Outcome
    {
        let w = state.world
        let base = state.base
        let count: Int
        let render: (Int) -> FrontJSON
        var ok: (Int) -> Bool = { _ in true }
        switch resource {
        case "channels": (count, render) = (w.channels.count, { w.channelJSON($0, base: base) })
        case "inboxes": (count, render) = (w.inboxes.count, { w.inboxJSON($0, base: base) })
        case "teammates": (count, render) = (w.teammates.count, { w.teammateJSON($0, base: base) })
        case "teams": (count, render) = (w.teams.count, { w.teamJSON($0, base: base) })
        case "accounts": (count, render) = (w.accounts.count, { w.accountJSON($0, base: base) })
        case "tags":
            (count, render) = (w.tags.count, { w.tagJSON($0, base: base) })
            ok = { w.tags[$0].deletedAt == nil }
        default: return .failure(.frontNotFound("Unknown route /\(resource)"))
        }
        var after: Int?
        if case .afterIndex(let i) = position { after = i }
        let seq: AnySequence<Int> =
            q.ascending
            ? AnySequence(((after.map { $0 + 1 } ?? 0)..<max(count, (after ?? -1) + 1)))
            : AnySequence((0..<min(count, after ?? count)).reversed())
        let (items, more) = Self.take(seq, size, where: ok)
        return .page(items: items.map(render), next: more ? .afterIndex(items.last!) : nil, total: nil)
    }

    private func events(_ q: FrontListQuery, size: Int, position: FrontPagePosition?, state: inout FrontState) -> Outcome {
        let w = state.world
        let base = state.base
        let lower = q.afterMs.map { a in w.firstEvent { Double($0) > a } } ?? 0
        let upper = q.beforeMs.map { b in w.firstEvent { Double($0) >= b } } ?? w.events.count
        var from: Int?
        if case .eventIndex(let i) = position { from = i }
        let inboxIndices = Set(q.inboxes.compactMap { FrontKind.inbox.index(of: $0, count: w.inboxes.count) })
        let ok: (Int) -> Bool = { e in
            (q.types.isEmpty || q.types.contains(w.events[e].type.rawValue))
                && (q.inboxes.isEmpty || inboxIndices.contains(w.conversations[w.events[e].conversation].inbox))
        }
        let seq: AnySequence<Int>
        if q.ascending {
            let start = max(lower, from ?? lower)
            seq = AnySequence(start..<max(start, upper))
        } else {
            let top = min(upper, (from ?? upper - 1) + 1)
            seq = AnySequence((lower..<max(lower, top)).reversed())
        }
        let (items, more) = Self.take(seq, size, where: ok)
        let next: FrontPagePosition? = more ? .eventIndex(q.ascending ? items.last! + 1 : items.last! - 1) : nil
        return .page(items: items.map { w.eventJSON($0, base: base) }, next: next, total: nil)
    }

    private func contacts(_ q: FrontListQuery, size: Int, position: FrontPagePosition?, state: inout FrontState) -> Outcome {
        let order = state.world.contactsOrdered(byUpdated: q.sortByUpdated)
        let w = state.world
        let base = state.base
        let key: (Int) -> Int64 = q.sortByUpdated ? { w.contacts[$0].updatedAt } : { w.contacts[$0].createdAt }
        var after: (Int64, Int)?
        if case .afterKey(let k, let i) = position { after = (k, i) }
        // Start past the filter's lower bound when the order allows it.
        if after == nil, q.ascending, q.sortByUpdated, let a = q.afterMs {
            after = (Int64(a.rounded(.down)), Int.max)
        }
        let ok: (Int) -> Bool = { j in
            let u = Double(w.contacts[j].updatedAt)
            return (q.afterMs.map { u > $0 } ?? true) && (q.beforeMs.map { u < $0 } ?? true)
        }
        let (items, more) = Self.take(Self.traverse(order, key: key, ascending: q.ascending, after: after), size, where: ok)
        let next: FrontPagePosition? = more ? .afterKey(key(items.last!), items.last!) : nil
        return .page(items: items.map { w.contactJSON($0, base: base) }, next: next, total: nil)
    }

    private func conversations(_ q: FrontListQuery, size: Int, position: FrontPagePosition?, state: inout FrontState) -> Outcome {
        let order = state.world.conversationsByUpdated()
        let w = state.world
        let base = state.base
        let key: (Int) -> Int64 = { w.conversations[$0].updatedAt }
        var after: (Int64, Int)?
        if case .afterKey(let k, let i) = position { after = (k, i) }
        let ok: (Int) -> Bool = { c in
            guard !q.statuses.isEmpty else { return w.conversations[c].status != .deleted }
            let s = w.conversations[c].status
            return q.statuses.contains(s.rawValue) || (s == .deleted && q.statuses.contains("trashed"))
        }
        let (items, more) = Self.take(Self.traverse(order, key: key, ascending: q.ascending, after: after), size, where: ok)
        let next: FrontPagePosition? = more ? .afterKey(key(items.last!), items.last!) : nil
        return .page(items: items.map { w.conversationJSON($0, base: base) }, next: next, total: nil)
    }

    /// `after:`/`before:` match conversations with a message or comment in the closed range;
    /// results by last activity, newest first; `_total` counts every match.
    private func search(_ q: FrontListQuery, size: Int, position: FrontPagePosition?, state: inout FrontState) -> Outcome {
        let w = state.world
        let base = state.base
        var candidates: [Int]
        if q.afterMs != nil || q.beforeMs != nil {
            candidates = Array(w.conversationsActive(fromMs: q.afterMs ?? -.infinity, toMs: q.beforeMs ?? .infinity))
        } else {
            candidates = Array(w.conversations.indices)
        }
        let tagIndices = Set(q.searchTags.compactMap { FrontKind.tag.index(of: $0, count: w.tags.count) })
        let inboxIndices = Set(q.searchInboxes.compactMap { FrontKind.inbox.index(of: $0, count: w.inboxes.count) })
        candidates.removeAll { c in
            let v = w.conversations[c]
            for flag in q.searchIs {
                switch flag {
                case "archived": if v.status != .archived { return true }
                case "open": if v.status == .archived || v.status == .deleted { return true }
                case "assigned": if v.assignee == nil { return true }
                case "unassigned": if v.assignee != nil { return true }
                case "trashed", "deleted": if v.status != .deleted { return true }
                default: return true
                }
            }
            if !q.searchTags.isEmpty, !v.tags.contains(where: tagIndices.contains) { return true }
            if !q.searchInboxes.isEmpty, !inboxIndices.contains(v.inbox) { return true }
            let subject = v.subject.lowercased()
            return q.searchTerms.contains { !subject.contains($0) }
        }
        let total = candidates.count
        candidates.sort {
            let a = w.conversations[$0].lastActivity
            let b = w.conversations[$1].lastActivity
            return a != b ? a > b : $0 > $1
        }
        var start = 0
        if case .afterKey(let k, let i) = position {
            start = candidates.firstIndex { (w.conversations[$0].lastActivity, $0) < (k, i) } ?? candidates.count
        }
        let (items, more) = Self.take(candidates[start...], size, where: { _ in true })
        let next: FrontPagePosition? = more ? .afterKey(w.conversations[items.last!].lastActivity, items.last!) : nil
        return .page(items: items.map { w.conversationJSON($0, base: base) }, next: next, total: total)
    }
}
