import Foundation
import Sandbox
import Testing

@Suite("Front sandbox over HTTP")
struct FrontSandboxTests {

    // MARK: auth and errors

    @Test("a missing or unknown token gets Front's 401 envelope; a token without a scope gets 403 naming it")
    func auth() async throws {
        try await withSandbox({ $0.scopedTokens = ["narrow": ["contacts:read"]] }) { _, client in
            let missing = try await client.get("/me", token: nil)
            #expect(missing.status == 401)
            #expect(missing.errorTitle == "Unauthenticated")
            #expect((missing.object["_error"] as? [String: Any])?["status"] as? Int == 401)
            #expect(missing.header("x-ratelimit-limit") != nil)

            let wrong = try await client.get("/me", token: "nope")
            #expect(wrong.status == 401)

            let narrow = try await client.get("/contacts", token: "narrow")
            #expect(narrow.status == 200)
            let forbidden = try await client.get("/events", token: "narrow")
            #expect(forbidden.status == 403)
            #expect(forbidden.errorMessage?.contains("events:*:read") == true)

            let me = try await client.get("/me")
            #expect(me.status == 200)
            #expect(me.object["id"] as? String != nil)
            let accounts = try await client.get("/accounts")
            #expect(accounts.status == 200)
        }
    }

    @Test("unknown routes answer 404, unknown page tokens 400, unknown ids 404, all in the _error envelope")
    func errors() async throws {
        try await withSandbox { _, client in
            let route = try await client.get("/nothing-here")
            #expect(route.status == 404)
            #expect(route.errorTitle == "Not found")
            let token = try await client.get("/contacts?page_token=bogus")
            #expect(token.status == 400)
            #expect(token.errorTitle == "Bad request")
            let id = try await client.get("/conversations/cnv_zzzzzzzz")
            #expect(id.status == 404)
            let badTime = try await client.get("/events?q%5Bafter%5D=yesterday")
            #expect(badTime.status == 400)
        }
    }

    // MARK: envelope and paging

    @Test("lists carry exactly _pagination, _links{self} and _results; search adds _total; links are on the sandbox's base")
    func envelope() async throws {
        try await withSandbox { sandbox, client in
            let base = sandbox.baseURL!.absoluteString
            for path in [
                "/channels", "/inboxes", "/tags", "/teammates", "/teams", "/contacts", "/events", "/conversations", "/accounts",
            ] {
                let reply = try await client.get(path)
                #expect(reply.status == 200, "\(path)")
                #expect(Set(reply.object.keys) == ["_pagination", "_links", "_results"], "\(path)")
                #expect((reply.object["_links"] as? [String: Any]).map { Array($0.keys) } == ["self"], "\(path)")
                #expect((reply.object["_links"] as? [String: Any])?["self"] as? String == base + path)
                let pagination = reply.object["_pagination"] as? [String: Any]
                #expect(pagination.map { Array($0.keys) } == ["next"], "\(path)")
                #expect(!reply.results.isEmpty, "\(path)")
                let selfLink = (reply.results[0]["_links"] as? [String: Any])?["self"] as? String
                #expect(selfLink?.hasPrefix(base + path + "/") == true, "\(path)")
                for header in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"] {
                    #expect(reply.header(header) != nil, "\(path) \(header)")
                }
            }
            let channels = try await client.get("/channels")
            #expect(channels.object["_pagination"].flatMap { ($0 as? [String: Any])?["next"] } is NSNull)
            let search = try await client.get("/conversations/search/is:open")
            #expect(Set(search.object.keys) == ["_pagination", "_links", "_results", "_total"])

            let contact = try await client.get("/contacts?limit=1")
            #expect(contact.next?.hasPrefix(base + "/contacts?") == true)
            let doc = contact.results[0]
            #expect(doc["updated_at"] is NSNumber && doc["created_at"] is NSNumber)
            let conversation = try await client.get("/conversations?limit=1").results[0]
            for field in ["created_at", "updated_at", "status", "tags", "assignee", "recipient"] {
                #expect(conversation.keys.contains(field), "\(field)")
            }
        }
    }

    @Test("paging to the end through short pages yields every contact once, whether or not the params are resent")
    func pagingWithShortPages() async throws {
        try await withSandbox({ $0.shortPages = true }) { _, client in
            let truth = try await client.admin("GET", "/_sandbox/truth").object
            let expected = Set(((truth["contacts"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })

            let pages = try await client.pages("/contacts?limit=10&sort_by=updated_at&sort_order=asc")
            let ids = pages.flatMap(\.ids)
            #expect(ids.count == expected.count)
            #expect(Set(ids) == expected)
            #expect(pages.dropLast().contains { $0.results.count < 10 && $0.next != nil })
            #expect(pages.last?.next == nil)

            // Estuary style: take only page_token from next and resend the original params with it.
            var resent: [String] = []
            var target = "/contacts?limit=10&sort_by=updated_at&sort_order=asc"
            while true {
                let page = try await client.get(target)
                resent += page.ids
                guard let next = page.next,
                    let token = URLComponents(string: next)?.queryItems?.first(where: { $0.name == "page_token" })?.value
                else { break }
                target = "/contacts?limit=10&limit=10&sort_by=updated_at&sort_order=asc&page_token=\(token)"
            }
            #expect(resent == ids)
        }
    }

    @Test("limit is clamped to 100, and to 15 on /events")
    func limitClamps() async throws {
        try await withSandbox { _, client in
            let events = try await client.get("/events?limit=100")
            #expect(events.results.count == 15)
            #expect(events.next?.contains("limit=15") == true)
            let contacts = try await client.get("/contacts?limit=500")
            #expect(contacts.results.count == 100)
            let defaultEvents = try await client.get("/events")
            #expect(defaultEvents.results.count == 15)
        }
    }

    // MARK: filters

    @Test("events: q[after]/q[before] are exclusive, sort ascends on request, q[types] filters, ids grow with time")
    func eventsFilters() async throws {
        try await withSandbox { _, client in
            let truth = try await client.admin("GET", "/_sandbox/truth").object
            let all = (truth["events"] as? [[String: Any]]) ?? []
            #expect(all.count > 40)
            let pivot = seconds(all[all.count / 3]["emitted_at"])
            let end = seconds(all[2 * all.count / 3]["emitted_at"])
            let expected = all.filter { seconds($0["emitted_at"]) > pivot && seconds($0["emitted_at"]) < end }.compactMap {
                $0["id"] as? String
            }

            let pages = try await client.pages(
                "/events?q%5Bafter%5D=\(pivot)&q%5Bbefore%5D=\(end)&sort_by=created_at&sort_order=asc&limit=100")
            let docs = pages.flatMap(\.results)
            #expect(docs.compactMap { $0["id"] as? String } == expected)
            let times = docs.map { seconds($0["emitted_at"]) }
            #expect(times == times.sorted())
            let numbers = docs.compactMap { ($0["id"] as? String).flatMap { Int($0.dropFirst(4), radix: 36) } }
            #expect(numbers == numbers.sorted())
            #expect(docs.allSatisfy { ($0["conversation"] as? [String: Any])?["id"] is String })

            let descending = try await client.get("/events")
            let descTimes = descending.results.map { seconds($0["emitted_at"]) }
            #expect(descTimes == descTimes.sorted(by: >))

            let typed = try await client.pages("/events?q%5Btypes%5D=tag&q%5Btypes%5D=assign&sort_order=asc")
            let types = Set(typed.flatMap(\.results).compactMap { $0["type"] as? String })
            #expect(!types.isEmpty && types.isSubset(of: ["tag", "assign"]))
        }
    }

    @Test("contacts: q[updated_after] with sort_by=updated_at returns exactly the newer contacts, ascending")
    func contactsUpdatedAfter() async throws {
        try await withSandbox { _, client in
            let truth = try await client.admin("GET", "/_sandbox/truth").object
            let all = ((truth["contacts"] as? [[String: Any]]) ?? []).sorted {
                seconds($0["updated_at"]) < seconds($1["updated_at"])
            }
            let pivot = seconds(all[all.count / 2]["updated_at"])
            let expected = all.filter { seconds($0["updated_at"]) > pivot }.compactMap { $0["id"] as? String }
            let docs = try await client.pages(
                "/contacts?q%5Bupdated_after%5D=\(pivot)&sort_by=updated_at&sort_order=asc&limit=25"
            ).flatMap(\.results)
            #expect(docs.compactMap { $0["id"] as? String } == expected)
        }
    }

    @Test("search: after:/before: are inclusive at the boundary, encoded or not, and _total counts every match")
    func searchWindow() async throws {
        try await withSandbox { _, client in
            let truth = try await client.admin("GET", "/_sandbox/truth").object
            let conversations = (truth["conversations"] as? [[String: Any]]) ?? []
            let target = conversations[conversations.count / 2]
            let id = target["id"] as! String
            let at = seconds(target["last_activity_at"])

            let exact = try await client.get("/conversations/search/after:\(at)%20before:\(at)")
            #expect(exact.status == 200)
            #expect(exact.ids.contains(id))
            #expect(exact.total == exact.ids.count)

            let encoded = try await client.get("/conversations/search/after%3A\(at)%20before%3A\(at)")
            #expect(encoded.ids == exact.ids)

            let later = try await client.get("/conversations/search/after:\(at + 0.001)%20before:\(at + 1)")
            #expect(!later.ids.contains(id))

            // A wide window pages to _total, ordered by last activity, newest first.
            let first = seconds(conversations.map { seconds($0["last_activity_at"]) }.min())
            let pages = try await client.pages("/conversations/search/after:0%20before:\(at)?limit=7")
            let ids = pages.flatMap(\.ids)
            #expect(pages[0].total == ids.count)
            #expect(Set(ids).count == ids.count)
            #expect(ids.contains(id))
            #expect(first <= at)
        }
    }

    // MARK: rate limits

    @Test("over the minute limit: 429 with retry-after in whole seconds, the three headers and Front's message")
    func minuteLimit() async throws {
        try await withSandbox({ $0.rateLimitPerMinute = 50 }) { _, client in
            var remaining: [Int] = []
            for _ in 0..<50 {
                let reply = try await client.get("/teammates")
                #expect(reply.status == 200)
                remaining.append(Int(reply.header("x-ratelimit-remaining") ?? "") ?? -1)
            }
            #expect(remaining.first == 49 && remaining.last == 0)
            let over = try await client.get("/teammates")
            #expect(over.status == 429)
            #expect(over.errorTitle == "Too many requests")
            #expect(over.errorMessage?.contains("milliseconds") == true)
            let retry = Int(over.header("retry-after") ?? "")
            #expect((retry ?? 0) >= 1)
            #expect(over.header("x-ratelimit-limit") == "50")
            #expect(over.header("x-ratelimit-remaining") == "0")
            let reset = Double(over.header("x-ratelimit-reset") ?? "") ?? 0
            #expect(reset > Date().timeIntervalSince1970 - 1)
            #expect(over.header("x-front-tier") == nil)

            let stats = try await client.admin("GET", "/_sandbox/stats").object
            #expect(stats["429"] as? Int == 1)
            _ = try await client.admin("POST", "/_sandbox/ratelimit/reset")
            #expect(try await client.get("/teammates").status == 200)
        }
    }

    @Test("the burst limit answers 429 with x-front-tier while the minute budget remains; search gets 40 %")
    func burstAndSearchLimits() async throws {
        try await withSandbox({
            $0.burstPerSecond = 5
            $0.rateLimitPerMinute = 10
        }) { _, client in
            for _ in 0..<4 { #expect(try await client.get("/conversations/search/is:open").status == 200) }
            let search = try await client.get("/conversations/search/is:open")
            #expect(search.status == 429)  // 40 % of 10
            #expect(Int(search.header("x-ratelimit-remaining") ?? "") ?? 0 > 0)

            for _ in 0..<5 { #expect(try await client.get("/tags").status == 200) }
            let burst = try await client.get("/tags")
            #expect(burst.status == 429)
            #expect(burst.header("x-front-tier") != nil)
            #expect(Int(burst.header("x-ratelimit-remaining") ?? "") ?? 0 > 0)
            #expect((Int(burst.header("retry-after") ?? "") ?? 0) >= 1)
            #expect(try await client.get("/teams").status == 200)
        }
    }

    // MARK: fault injection

    @Test("injected 503s, 500s and 429s hit only their route prefix, for the given count")
    func faults() async throws {
        try await withSandbox { _, client in
            _ = try await client.admin("POST", "/_sandbox/faults", ["status": 503, "count": 2, "route_prefix": "/events"])
            #expect(try await client.get("/contacts").status == 200)
            #expect(try await client.get("/events").status == 503)
            #expect(try await client.get("/events").status == 503)
            #expect(try await client.get("/events").status == 200)

            _ = try await client.admin("POST", "/_sandbox/faults", ["status": 429, "count": 1, "retry_after": 7])
            let limited = try await client.get("/tags")
            #expect(limited.status == 429)
            #expect(limited.header("retry-after") == "7")
            #expect(limited.errorTitle == "Too many requests")

            _ = try await client.admin("POST", "/_sandbox/faults", ["status": 500, "count": 1])
            let failed = try await client.get("/tags")
            #expect(failed.status == 500)
            #expect(failed.errorMessage != nil)

            _ = try await client.admin("POST", "/_sandbox/faults", ["latency_ms": 5, "count": 1])
            #expect(try await client.get("/tags").status == 200)
            let list = try await client.admin("GET", "/_sandbox/faults").object["faults"] as? [Any]
            #expect(list?.isEmpty == true)
        }
    }

    // MARK: mutations

    @Test(
        "changing conversations without messages bumps updated_at and emits events embedding the new state",
        arguments: changeSeeds)
    func conversationChanges(seed: UInt64) async throws {
        try await withSandbox({ $0.seed = seed }) { _, client in
            let newest = try await client.get("/events?limit=1").results[0]
            let since = seconds(newest["emitted_at"])
            let changed = try await client.admin("POST", "/_sandbox/conversations/change", ["count": 3, "change": "archive"])
                .object
            let changedIDs = ((changed["conversations"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            #expect(changedIDs.count == 3)

            let events = try await client.pages("/events?q%5Bafter%5D=\(since)&sort_by=created_at&sort_order=asc").flatMap(
                \.results)
            #expect(events.count == 3)
            for event in events {
                #expect(event["type"] as? String == "archive")
                let conversation = event["conversation"] as? [String: Any]
                #expect(conversation?["status"] as? String == "archived")
                #expect(seconds(conversation?["updated_at"]) == seconds(event["emitted_at"]))
                #expect(changedIDs.contains(conversation?["id"] as? String ?? ""))
            }
            let latest = try await client.get("/conversations?limit=3").ids
            #expect(Set(latest) == Set(changedIDs))
            let archived = try await client.pages("/conversations?q%5Bstatuses%5D=archived&limit=100").flatMap(\.results)
            #expect(archived.allSatisfy { $0["status"] as? String == "archived" })
            #expect(Set(changedIDs).isSubset(of: Set(archived.compactMap { $0["id"] as? String })))

            let messaged = try await client.admin("POST", "/_sandbox/messages", ["ids": [changedIDs[0]]]).object
            #expect(((messaged["events"] as? [[String: Any]])?.first?["type"] as? String) == "inbound")
            let reopened = try await client.get("/conversations/\(changedIDs[0])").object
            #expect(reopened["status"] as? String != "archived")

            let created = try await client.admin("POST", "/_sandbox/conversations", ["count": 2]).object
            let newIDs = ((created["conversations"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            #expect(newIDs.count == 2)
            let window = try await client.get(
                "/conversations/search/after:\(since)%20before:\(Date().timeIntervalSince1970 + 60)")
            #expect(Set(newIDs + [changedIDs[0]]).isSubset(of: Set(window.ids)))
        }
    }

    @Test("updated contacts come back after the old cursor; deleted tags leave /tags and show in the truth")
    func contactAndTagChanges() async throws {
        try await withSandbox { _, client in
            let last = try await client.get("/contacts?sort_by=updated_at&sort_order=desc&limit=1").results[0]
            let since = seconds(last["updated_at"])
            let updated = try await client.admin("POST", "/_sandbox/contacts/update", ["count": 4]).object
            let ids = ((updated["contacts"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            let newer = try await client.pages("/contacts?q%5Bupdated_after%5D=\(since)&sort_by=updated_at&sort_order=asc")
                .flatMap(\.ids)
            #expect(Set(newer) == Set(ids) && newer.count == 4)

            let tags = try await client.get("/tags?limit=100").ids
            let deleted = try await client.admin("POST", "/_sandbox/tags/delete", ["ids": [tags[0]]]).object
            #expect(deleted["deleted"] as? [String] == [tags[0]])
            let after = try await client.get("/tags?limit=100").ids
            #expect(!after.contains(tags[0]) && after.count == tags.count - 1)
            #expect(try await client.get("/tags/\(tags[0])").status == 404)
            let added = try await client.admin("POST", "/_sandbox/tags", ["names": ["fresh"]]).object
            let addedID = (added["tags"] as? [[String: Any]])?.first?["id"] as? String
            #expect(try await client.get("/tags?limit=100").ids.contains(addedID ?? "-"))

            let truth = try await client.admin("GET", "/_sandbox/truth").object
            #expect(truth["deleted_tag_ids"] as? [String] == [tags[0]])
        }
    }

    @Test("starting on a port that is taken fails instead of hanging; stop frees the port")
    func portInUse() async throws {
        try await withSandbox { sandbox, _ in
            let port = try #require(sandbox.port)
            let second = FrontSandbox(
                options: {
                    var o = FrontSandbox.Options()
                    o.conversations = 1
                    return o
                }())
            await #expect(throws: (any Error).self) { try await second.start(port: port) }
            #expect(second.port == nil)
        }
    }

    // MARK: stats and determinism

    @Test("stats count requests by route class and status, and reset")
    func stats() async throws {
        try await withSandbox { _, client in
            _ = try await client.admin("POST", "/_sandbox/stats/reset")
            for _ in 0..<3 { _ = try await client.get("/events") }
            for _ in 0..<2 { _ = try await client.get("/conversations/search/after:0%20before:1") }
            _ = try await client.get("/conversations/cnv_zz")
            _ = try await client.get("/nowhere")
            let stats = try await client.admin("GET", "/_sandbox/stats").object
            #expect(stats["GET /events"] as? Int == 3)
            #expect(stats["GET /conversations/search"] as? Int == 2)
            #expect(stats["GET /conversations/{id}"] as? Int == 1)
            #expect(stats["unknown"] as? Int == 1)
            #expect(stats["total"] as? Int == 7)
            #expect(stats["200"] as? Int == 5)
            #expect(stats["404"] as? Int == 2)
            #expect(stats["429"] as? Int == 0)
            _ = try await client.admin("POST", "/_sandbox/stats/reset")
            #expect(try await client.admin("GET", "/_sandbox/stats").object["total"] as? Int == 0)
        }
    }

    @Test("the same seed gives the same company; 5,000 conversations with 20,000+ events are served")
    func determinismAndScale() async throws {
        let one = try await withSandbox { _, client in try await client.admin("GET", "/_sandbox/truth").object }
        let two = try await withSandbox { _, client in try await client.admin("GET", "/_sandbox/truth").object }
        #expect(NSDictionary(dictionary: one) == NSDictionary(dictionary: two))

        try await withSandbox({
            $0.conversations = 5_000
            $0.eventsPerConversation = 5
            $0.contacts = 2_000
        }) { _, client in
            let truth = try await client.admin("GET", "/_sandbox/truth").object
            let events = (truth["events"] as? [[String: Any]]) ?? []
            #expect(events.count >= 20_000)
            let pivot = seconds(events[events.count - 40]["emitted_at"])
            let tail = try await client.pages("/events?q%5Bafter%5D=\(pivot)&sort_by=created_at&sort_order=asc").flatMap(\.ids)
            #expect(tail == events.suffix(39).compactMap { $0["id"] as? String })
            let window = try await client.get("/conversations/search/after:0%20before:\(pivot)?limit=100")
            #expect((window.total ?? 0) > 4_000)
        }
    }
}
