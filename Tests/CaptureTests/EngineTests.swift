import Foundation
import Front
import Model
import Store
import SwitchboardTesting
import Synchronization
import Testing
import Transport

@testable import Capture

/// A small in-memory Front for unit tests of the engine, answering as NOTES §2 describes:
/// envelopes, absolute `next` URLs with an opaque token, `q[after]` exclusive, search windows
/// inclusive with `_total`, short pages while `next` is set. Not the Front sandbox.
final class FakeFront: HTTPTransport {
    struct Conversation: Sendable {
        var id: String
        var status: String
        var updatedAt: Double
        var activity: [Double]
        var json: String { #"{"id":"\#(id)","status":"\#(status)","updated_at":\#(updatedAt)}"# }
    }

    struct World: Sendable {
        var snapshots: [String: [String]] = [:]  // resource → ids
        var contacts: [(id: String, updatedAt: Double)] = []
        var events: [(id: String, emittedAt: Double, conversation: String)] = []
        var conversations: [String: Conversation] = [:]
        var pageSize = 2
        var status: Int?
        var requests: [String] = []
        var onRequest: (@Sendable (Int) -> Void)?
    }

    let world: Mutex<World>
    init(_ world: World) { self.world = Mutex(world) }

    var requests: [String] { world.withLock { $0.requests } }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let parts = URLComponents(url: request.url, resolvingAgainstBaseURL: false)!
        var query: [String: String] = [:]
        for item in parts.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let path = parts.path
        let (response, count, hook) = world.withLock { world -> (HTTPResponse, Int, (@Sendable (Int) -> Void)?) in
            world.requests.append(path + (query["page_token"].map { " #\($0)" } ?? ""))
            return (
                answer(path: path, query: query, auth: request.headers["Authorization"], world: world), world.requests.count,
                world.onRequest
            )
        }
        hook?(count)
        return response
    }

    private func answer(path: String, query: [String: String], auth: String?, world: World) -> HTTPResponse {
        guard auth == "Bearer test-token" else { return error(401, "Unauthenticated") }
        if let status = world.status { return error(status, "scripted") }
        let offset = Int(query["page_token"] ?? "0") ?? 0
        let segments = path.split(separator: "/").map(String.init)
        let after = query["q[after]"].flatMap(Double.init) ?? query["q[updated_after]"].flatMap(Double.init) ?? -1
        var items: [String]
        var total: Int?
        var size = world.pageSize
        switch segments.first ?? "" {
        case "contacts":
            items = world.contacts.filter { $0.updatedAt > after }.sorted { $0.updatedAt < $1.updatedAt }
                .map { #"{"id":"\#($0.id)","updated_at":\#($0.updatedAt)}"# }
        case "events":
            size = min(size, 15)
            items = world.events.filter { $0.emittedAt > after }.sorted { $0.emittedAt < $1.emittedAt }.map {
                #"{"id":"\#($0.id)","emitted_at":\#($0.emittedAt),"conversation":\#(world.conversations[$0.conversation]!.json)}"#
            }
        case "conversations" where segments.count == 3 && segments[1] == "search":
            let words = segments[2].split(separator: " ")
            let from = Double(words[0].dropFirst("after:".count))!
            let to = Double(words[1].dropFirst("before:".count))!
            let hits = world.conversations.values.filter { $0.activity.contains { $0 >= from && $0 <= to } }
                .sorted { $0.activity.max()! > $1.activity.max()! }
            items = hits.map(\.json)
            total = items.count
        case let resource:
            items = (world.snapshots[resource] ?? []).map { #"{"id":"\#($0)"}"# }
        }
        let page = Array(items.dropFirst(offset).prefix(size))
        var next = "null"
        if offset + size < items.count {
            var rest = query
            rest["page_token"] = String(offset + size)
            let encoded = rest.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
                .addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "[]")))!
            let encodedPath = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!
            next = "\"http://fake.test\(encodedPath)?\(encoded)\""
        }
        let body =
            #"{"_pagination":{"next":\#(next)},"_links":{"self":"x"},"_results":[\#(page.joined(separator: ","))]"#
            + (total.map { #","_total":\#($0)"# } ?? "") + "}"
        return HTTPResponse(
            status: 200, headers: ["x-ratelimit-limit": "100", "x-ratelimit-remaining": "99", "x-ratelimit-reset": "30"],
            body: Data(body.utf8))
    }

    private func error(_ status: Int, _ title: String) -> HTTPResponse {
        HTTPResponse(status: status, body: Data(#"{"_error":{"status":\#(status),"title":"\#(title)","message":"no"}}"#.utf8))
    }
}

let start = 1_731_000_000.0

func seededWorld() -> FakeFront.World {
    var world = FakeFront.World()
    world.snapshots = [
        "channels": ["cha_1", "cha_2", "cha_3"], "inboxes": ["inb_1"], "tags": ["tag_1", "tag_2"], "teammates": ["tea_1"],
        "teams": ["tim_1"],
    ]
    world.contacts = [("crd_1", start + 10), ("crd_2", start + 20), ("crd_3", start + 20)]
    for index in 1...4 {
        let time = start + Double(index) * 1000
        world.conversations["cnv_\(index)"] = .init(id: "cnv_\(index)", status: "assigned", updatedAt: time, activity: [time])
    }
    world.events = (1...20).map { ("evt_\($0)", start + Double($0) * 100, "cnv_\(($0 % 4) + 1)") }
    return world
}

struct Harness {
    let front: FakeFront
    let store: SQLiteStore
    let clock = TestClock()
    let config: CaptureConfig

    init(_ world: FakeFront.World = seededWorld(), resources: [FrontResource] = FrontResource.allCases) throws {
        front = FakeFront(world)
        store = try SQLiteStore(path: makeTemporaryFolder("capture-tests").appendingPathComponent("db.sqlite").path)
        config = CaptureConfig(
            token: FrontToken("test-token")!, startDate: Date(timeIntervalSince1970: start),
            bindings: resources.map { CaptureBinding(resource: $0, collection: "acme/\($0.rawValue)") })
    }

    var engine: CaptureEngine {
        let clock = self.clock
        let client = FrontClient(
            token: config.token, baseURL: URL(string: "http://fake.test")!, transport: front,
            clock: FrontClock(now: { clock.unixTime }, sleep: clock.sleep(seconds:)))
        return CaptureEngine(config: config, store: store, client: client, now: { clock.date })
    }

    func keys(_ resource: FrontResource) throws -> [String] {
        var keys: [String] = []
        try store.forEachDocument(in: "acme/\(resource.rawValue)") { keys.append($0.key) }
        return keys
    }

    func json(_ resource: FrontResource, _ key: String) throws -> String? {
        try store.document(in: "acme/\(resource.rawValue)", key: key).map { String(decoding: $0.json, as: UTF8.self) }
    }
}

@Suite struct EngineTests {
    @Test func aFirstRunCapturesEverythingAndASecondCostsOneRequestPerListPageOrBinding() async throws {
        let harness = try Harness()
        let first = try await harness.engine.run()
        #expect(try harness.keys(.channels) == ["cha_1", "cha_2", "cha_3"])
        #expect(try harness.keys(.events).count == 20)
        #expect(try harness.keys(.contacts) == ["crd_1", "crd_2", "crd_3"])
        #expect(try harness.keys(.conversations) == ["cnv_1", "cnv_2", "cnv_3", "cnv_4"])
        #expect(first.bindings.allSatisfy { $0.state == .done })

        let before = harness.front.requests.count
        harness.clock.advance(by: .seconds(3600))
        let second = try await harness.engine.run()
        let spent = harness.front.requests.dropFirst(before)
        // Snapshot pages: channels 2, inboxes 1, tags 1, teammates 1, teams 1; events 1; contacts 1.
        #expect(spent.count == 8, "\(Array(spent))")
        #expect(second.written == 0)
    }

    @Test func aStatusChangeWithNoNewMessageIsCapturedThroughItsEvent() async throws {
        let harness = try Harness()
        _ = try await harness.engine.run()
        harness.clock.advance(by: .seconds(3600))
        let now = harness.clock.unixTime
        harness.front.world.withLock { world in
            world.conversations["cnv_2"]!.status = "archived"
            world.conversations["cnv_2"]!.updatedAt = now
            world.events.append(("evt_archive", now, "cnv_2"))
        }
        let second = try await harness.engine.run()
        #expect(try harness.json(.conversations, "cnv_2")?.contains("archived") == true)
        #expect(second.bindings.first { $0.resource == "conversations" }?.documents == 1)
        #expect(try harness.keys(.events).count == 21)
    }

    @Test func anIdGoneFromASnapshotIsMarkedDeleted() async throws {
        let harness = try Harness(resources: [.tags])
        _ = try await harness.engine.run()
        harness.front.world.withLock { $0.snapshots["tags"] = ["tag_2"] }
        let second = try await harness.engine.run()
        #expect(try harness.keys(.tags) == ["tag_2"])
        #expect(try harness.store.document(in: "acme/tags", key: "tag_1")?.deleted == true)
        #expect(second.bindings[0].deleted == 1)
    }

    @Test func aBadTokenStopsTheWholeCaptureSayingSo() async throws {
        var world = seededWorld()
        world.status = 401
        let harness = try Harness(world)
        await #expect {
            try await harness.engine.run()
        } throws: { error in
            guard case .front(_, let front) = error as? CaptureError else { return false }
            return front.isCredentialProblem && "\(front)".contains("token is wrong")
        }
        #expect(harness.front.requests.count <= FrontResource.allCases.count)
    }

    @Test func aMissingScopeIsNamed() async throws {
        var world = seededWorld()
        world.status = 403
        let harness = try Harness(world, resources: [.contacts])
        await #expect {
            try await harness.engine.run()
        } throws: { error in
            "\(error)".contains("contacts:read")
        }
    }

    @Test func progressReportsEveryBinding() async throws {
        let harness = try Harness()
        let seen = Mutex<[String: BindingProgress]>([:])
        _ = try await harness.engine.run { progress in seen.withLock { $0[progress.name] = progress } }
        let last = seen.withLock { $0 }
        #expect(last.count == 8)
        #expect(last["acme/events"]?.documents == 20)
        #expect(last["acme/conversations"]?.documents == 4)
        #expect(last["acme/channels"]?.pages == 2)
        #expect(last.values.allSatisfy { $0.state == .done && $0.fraction == 1 })
        // Conversations ride on the events' pages: the requests count under events.
        #expect(last.values.allSatisfy { $0.requests > 0 || $0.resource == "conversations" })
        // Positions are times for the incremental bindings (the last event's, the last contact's).
        #expect(last["acme/events"]?.position == Millis((start + 2000) * 1000))
        #expect(last["acme/contacts"]?.position == Millis((start + 20) * 1000))
        #expect(last["acme/tags"]?.position == nil)
    }

    @Test(arguments: [1, 3, 5, 8, 12, 17])
    func killedAtAnyRequestTheNextRunLosesNothingAndRepeatsNothing(after requests: Int) async throws {
        let reference = try Harness()
        _ = try await reference.engine.run()

        let harness = try Harness()
        let engine = harness.engine
        let run = Mutex<CaptureRun?>(nil)
        harness.front.world.withLock { world in
            world.onRequest = { count in if count == requests { run.withLock { $0?.cancel() } } }
        }
        let started = engine.start()
        run.withLock { $0 = started }
        do {
            _ = try await started.result()
        } catch {
            guard case .cancelled = error else { throw error }
        }
        harness.front.world.withLock { $0.onRequest = nil }
        _ = try await harness.engine.run()

        for resource in FrontResource.allCases {
            #expect(try harness.keys(resource) == reference.keys(resource), "\(resource)")
        }
    }

    @Test func withEventsBoundConversationsComeFromTheEventsAloneFromTheStartDate() async throws {
        let harness = try Harness()
        _ = try await harness.engine.run()
        #expect(try harness.keys(.conversations) == ["cnv_1", "cnv_2", "cnv_3", "cnv_4"])
        #expect(!harness.front.requests.contains { $0.hasPrefix("/conversations") }, "\(harness.front.requests)")
    }

    @Test func withoutEventsConversationsAreSearchedThenFollowEventsWithoutWritingThem() async throws {
        let harness = try Harness(resources: [.conversations])
        _ = try await harness.engine.run()
        #expect(try harness.keys(.conversations) == ["cnv_1", "cnv_2", "cnv_3", "cnv_4"])
        #expect(harness.front.requests.contains { $0.hasPrefix("/conversations/search") })
        #expect(try harness.keys(.events) == [])

        // Then a change with no message: only its event tells, and the follow catches it.
        harness.clock.advance(by: .seconds(3600))
        let now = harness.clock.unixTime
        harness.front.world.withLock { world in
            world.conversations["cnv_3"]!.status = "archived"
            world.conversations["cnv_3"]!.updatedAt = now
            world.events.append(("evt_archive", now, "cnv_3"))
        }
        let before = harness.front.requests.count
        _ = try await harness.engine.run()
        #expect(try harness.json(.conversations, "cnv_3")?.contains("archived") == true)
        #expect(harness.front.requests.dropFirst(before).allSatisfy { $0.hasPrefix("/events") })
        #expect(try harness.keys(.events) == [])
    }

    @Test func aSearchBackfillAnEarlierVersionLeftUnfinishedIsCompletedThoughEventsAreBound() async throws {
        let harness = try Harness(resources: [.conversations, .events])
        // An earlier version searched from the start date and followed events from a later
        // "now"; it was stopped before searching anything. No event after that "now" exists.
        let since = Millis((start + 4500) * 1000)
        let windows = ConversationWindows(from: Millis(start * 1000), through: since)
        try await harness.store.commit([
            CollectionChanges(
                collection: "acme/conversations",
                checkpoints: [
                    try Checkpoint.write("acme/conversations", windows),
                    try Checkpoint.write("acme/conversations#follow", ConversationFollow(since: since)),
                ])
        ])
        _ = try await harness.engine.run()
        #expect(try harness.keys(.conversations) == ["cnv_1", "cnv_2", "cnv_3", "cnv_4"])
        #expect(try harness.keys(.events).count == 20)
        #expect(harness.front.requests.contains { $0.hasPrefix("/conversations/search") })

        let before = harness.front.requests.count
        _ = try await harness.engine.run()
        #expect(!harness.front.requests.dropFirst(before).contains { $0.hasPrefix("/conversations") })
    }

    @Test func startDateBoundsEventsAndContacts() async throws {
        var world = seededWorld()
        world.contacts.append(("crd_old", start - 5))
        world.events.append(("evt_old", start - 5, "cnv_1"))
        let harness = try Harness(world, resources: [.contacts, .events])
        _ = try await harness.engine.run()
        #expect(try !harness.keys(.contacts).contains("crd_old"))
        #expect(try !harness.keys(.events).contains("evt_old"))
    }
}
