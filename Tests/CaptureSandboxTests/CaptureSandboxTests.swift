import Capture
import Foundation
import Front
import Model
import Sandbox
import Store
import Synchronization
import Testing
import Transport

/// The real capture engine on the real transport against the Front sandbox, compared with the
/// sandbox's ground truth. Counts come from the sandbox's stats, never from a stopwatch.
@Suite(.serialized) struct CaptureSandboxTests {

    @Test(arguments: dataSeeds)
    func everyResourceIsCapturedUnderItsId(seed: UInt64) async throws {
        let harness = try await Harness.start(seed: seed)
        defer { Task { await harness.stop() } }
        let store = try harness.store("capture")

        let summary = try await harness.engine(store).run()

        #expect(try mismatches(store, try await harness.truth()) == [])
        for binding in allBindings {
            let stored = try Stored(store, binding.collection)
            #expect(!stored.documents.isEmpty, "\(binding.collection) is empty")
            for (key, document) in stored.documents {
                let object = try JSONSerialization.jsonObject(with: document.json) as? [String: Any]
                #expect(object?["id"] as? String == key, "\(binding.collection): key \(key) is not the document's id")
            }
        }
        #expect(summary.bindings.allSatisfy { $0.state == .done })
        #expect(summary.requests == harness.stats()["total"])
        // Events are bound: every conversation came embedded in its events, none by search.
        #expect(harness.stats()["GET /conversations/search"] == nil, "\(harness.stats())")
    }

    @Test(arguments: dataSeeds)
    func conversationsWithoutEventsAreSearchedThenFollowedAndMatchTheTruth(seed: UInt64) async throws {
        let harness = try await Harness.start(seed: seed)
        defer { Task { await harness.stop() } }
        let store = try harness.store("capture")
        let bindings = allBindings.filter { $0.resource != .events }
        _ = try await harness.engine(store, bindings: bindings).run()
        #expect(try mismatches(store, try await harness.truth(), bindings: bindings) == [])
        #expect(harness.stats()["GET /conversations/search"] ?? 0 > 0)
        #expect(try Stored(store, collection(.events)).documents.isEmpty)

        try await harness.admin("POST", "/_sandbox/conversations/change", ["count": 6, "change": "random"])
        try await harness.admin("POST", "/_sandbox/messages", ["count": 4, "type": "inbound"])
        try await harness.admin("POST", "/_sandbox/conversations", ["count": 2])
        harness.resetStats()
        // The changes carry the real clock, later than the follow start: the follow takes them.
        _ = try await harness.engine(store, bindings: bindings).run()
        #expect(try mismatches(store, try await harness.truth(), bindings: bindings) == [])
        #expect(harness.stats()["GET /conversations/search"] == nil, "\(harness.stats())")
    }

    @Test(arguments: dataSeeds)
    func aSecondRunAfterChangesHasEveryObjectInItsLatestState(seed: UInt64) async throws {
        let harness = try await Harness.start(seed: seed)
        defer { Task { await harness.stop() } }
        let store = try harness.store("capture")
        _ = try await harness.engine(store).run()

        // Changes with no new message: only the events embed these conversations' new state.
        // Each goes to a conversation it changes (archiving an archived one is a no-op, in Front
        // and in the stand-in, and would leave nothing to re-capture).
        let first = try await harness.truth()
        let status = first.field("conversations", "status")
        var pool = first.ids("conversations").sorted()
        var quiet: [String] = []
        for change in ["assign", "tag", "archive", "unassign", "reopen", "untag"] {
            let fits: (String) -> Bool =
                switch change {
                case "archive": { status[$0] != "archived" }
                case "reopen": { status[$0] == "archived" }
                default: { _ in true }
                }
            let id = try #require(pool.first(where: fits), "no conversation to \(change)")
            pool.removeAll { $0 == id }
            quiet.append(id)
            let answer = try await harness.admin("POST", "/_sandbox/conversations/change", ["ids": [id], "change": change])
            #expect((answer["events"] as? [Any])?.count == 1, "\(change) \(id) emitted no event: \(answer)")
        }
        try await harness.admin("POST", "/_sandbox/conversations/change", ["count": 8, "change": "random"])
        try await harness.admin("POST", "/_sandbox/messages", ["count": 5, "type": "inbound"])
        try await harness.admin("POST", "/_sandbox/messages", ["count": 3, "type": "comment"])
        try await harness.admin("POST", "/_sandbox/conversations", ["count": 4])
        try await harness.admin("POST", "/_sandbox/contacts/update", ["count": 7])
        try await harness.admin("POST", "/_sandbox/contacts", ["count": 3])
        let added = try await harness.admin("POST", "/_sandbox/tags", ["count": 2])["tags"] as? [[String: Any]] ?? []
        // Two tags the first run captured, and one created since: deleted before any run saw it,
        // it can only be absent from the collection (there is nothing to mark).
        let captured = Array(first.ids("tags").sorted().suffix(2))
        let unseen = try #require(added.first?["id"] as? String)
        let deleted =
            try await harness.admin("POST", "/_sandbox/tags/delete", ["ids": captured + [unseen]])["deleted"] as? [String] ?? []
        let before = try Stored(store, collection(.conversations)).field("updated_at")

        _ = try await harness.engine(store).run()

        let truth = try await harness.truth()
        #expect(try mismatches(store, truth) == [])
        let after = try Stored(store, collection(.conversations)).field("updated_at")
        for id in quiet {
            #expect(after[id] != before[id], "\(id) changed without a message but was not re-captured")
            #expect(after[id] == truth.field("conversations", "updated_at")[id])
        }
        #expect(Set(deleted) == Set(captured + [unseen]))
        let tags = try Stored(store, collection(.tags))
        for id in captured { #expect(tags.documents[id]?.deleted == true, "deleted tag \(id) not marked") }
        #expect(tags.documents[unseen] == nil, "tag \(unseen), deleted before any run, was stored")
    }

    @Test(arguments: dataSeeds)
    func aSecondRunOverUnchangedDataCostsOneRequestPerSnapshotPageAndOnePerIncrementalBinding(seed: UInt64) async throws {
        let harness = try await Harness.start(seed: seed)
        defer { Task { await harness.stop() } }
        let store = try harness.store("capture")
        _ = try await harness.engine(store).run()
        let first = try snapshot(store)
        let truth = try await harness.truth()
        harness.resetStats()

        let summary = try await harness.engine(store).run()

        let snapshotPages = ["channels", "inboxes", "tags", "teammates", "teams"]
            .map { (truth.ids($0).count + 99) / 100 }.reduce(0, +)
        // contacts, and one /events page shared by events and conversations (the backfill is done).
        let incremental = 2
        let stats = harness.stats()
        #expect(stats["total"]! <= snapshotPages + incremental, "\(stats)")
        #expect(stats["GET /conversations/search"] == nil)
        #expect(stats["GET /events"] == 1)
        #expect(summary.written == 0)
        #expect(try snapshot(store) == first)
    }

    /// Each kill seed on its own data set (the last on `SWITCHBOARD_TEST_SEED` when set), so the
    /// kills land on different pages of different data without adding cases.
    @Test(arguments: zip([UInt64(11), 23, 37, 41], [UInt64(1), 9, 12, environmentSeed ?? 2]))
    func aRunKilledAtRandomPointsAndResumedEndsIdenticalToAnUninterruptedOne(seed: UInt64, data: UInt64) async throws {
        let harness = try await Harness.start(seed: data)
        defer { Task { await harness.stop() } }
        let reference = try harness.store("uninterrupted")
        _ = try await harness.engine(reference).run()
        let expected = try snapshot(reference)
        let total = harness.stats()["total"]!

        var random = SeededRandom(seed: seed)
        let store = try harness.store("killed")
        var kills = 0
        for _ in 0..<3 {
            let k = Int.random(in: 1..<max(2, total / 2), using: &random)
            let killer = Killer()
            let transport = CountingTransport { n in if n == k { killer.kill() } }
            let run = harness.engine(store, transport: transport).start()
            killer.attach(run)
            switch await outcome(run) {
            case .success: break
            case .failure(.cancelled): kills += 1
            case .failure(let error): throw error
            }
        }
        _ = try await harness.engine(store).run()

        #expect(kills >= 2, "the kills came too late to interrupt anything")
        #expect(try snapshot(store) == expected)
        #expect(try mismatches(store, try await harness.truth()) == [])
    }

    @Test func a429StormAndServerErrorsAreSurvivedWithRetryAfterHonoured() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        _ = try await harness.engine(try harness.store("clean")).run()
        let clean = harness.stats()["total"]!
        harness.resetStats()

        try await harness.admin("POST", "/_sandbox/faults", ["status": 429, "count": 4, "retry_after": 1])
        try await harness.admin("POST", "/_sandbox/faults", ["status": 503, "count": 2])
        try await harness.admin("POST", "/_sandbox/faults", ["status": 500, "count": 2, "route_prefix": "/events"])
        let log = SendLog()
        let store = try harness.store("stormy")
        _ = try await harness.engine(store, transport: log).run()

        let stats = harness.stats()
        #expect(stats["429 injected"] == 4)
        #expect(stats["503"] == 2 && stats["500"] == 2)
        // Each fault cost exactly one more request, and nothing else did.
        #expect(stats["total"] == clean + 8)
        #expect(try mismatches(store, try await harness.truth()) == [])
        // Nothing was sent inside a 429's retry-after, by the binding that got it or any other.
        let violations = log.sentDuringRetryAfter()
        #expect(log.rateLimited == 4)
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func noRequestIsRateLimitedInSteadyState() async throws {
        // 40 requests per one-second "minute", search at 40 % of that, bursts of 5 per 1/60 s; the
        // limiter is told none of it and learns the window from the headers.
        let harness = try await Harness.start { options in
            options.rateLimitPerMinute = 40
            options.minuteLength = 1
            options.conversations = 200
            options.burstPerSecond = 5
        }
        defer { Task { await harness.stop() } }
        let store = try harness.store("paced")

        _ = try await harness.engine(store, limiter: CompanyRateLimiter()).run()

        let stats = harness.stats()
        #expect(stats["429"] == 0, "\(stats)")
        #expect(stats["total"]! > 40, "too small to cross a window: \(stats)")
        #expect(try mismatches(store, try await harness.truth()) == [])
    }

    @Test func aBadTokenFailsFastWithAClearMessage() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        let store = try harness.store("capture")
        let token = "not-the-sandbox-token-7f3a"

        await #expect {
            _ = try await harness.engine(store, token: token, limiter: CompanyRateLimiter()).run()
        } throws: { error in
            let text = String(describing: error)
            return text.contains("401") && text.contains("token is wrong, expired or revoked") && !text.contains(token)
        }
        let stats = harness.stats()
        // The first 401 stops every binding: the limiter's second slot (1.2 s later at the
        // assumed 50 a minute) is never used, and nothing is retried.
        #expect(stats["total"] == stats["401"])
        #expect(stats["401"]! >= 1 && stats["401"]! <= 2, "\(stats)")
    }

    @Test func aTokenWithoutAScopeFailsNamingTheScope() async throws {
        let harness = try await Harness.start { options in
            options.scopedTokens = ["contacts-only": ["contacts:read"]]
        }
        defer { Task { await harness.stop() } }
        let store = try harness.store("capture")
        await #expect {
            _ = try await harness.engine(store, token: "contacts-only").run()
        } throws: { error in
            String(describing: error).contains("lacks the scope")
        }
    }
}

/// How a started run ended, as a value (a typed `catch` pattern here trips the compiler).
func outcome(_ run: CaptureRun) async -> Result<CaptureSummary, CaptureError> {
    do {
        return .success(try await run.result())
    } catch {
        return .failure(error)
    }
}

/// The real transport, logging when each request went and when each 429 came back.
final class SendLog: HTTPTransport {
    private let inner = URLSessionTransport()
    private let entries = Mutex<(sends: [Double], limited: [(at: Double, retryAfter: Double)])>(([], []))

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        entries.withLock { $0.sends.append(Date().timeIntervalSince1970) }
        let response = try await inner.send(request)
        if response.status == 429 {
            let retryAfter = Double(response[header: "retry-after"] ?? "") ?? 0
            entries.withLock { $0.limited.append((Date().timeIntervalSince1970, retryAfter)) }
        }
        return response
    }

    var rateLimited: Int { entries.withLock { $0.limited.count } }

    /// Sends that started after a 429 arrived but before its retry-after was over. The 429 is
    /// logged here, before the client has read it: a request another binding had already set
    /// off in those few microseconds could not know of it, so sends within `known` are not
    /// counted (5 ms, far below any retry-after of a second or more).
    func sentDuringRetryAfter(known: Double = 0.005) -> [String] {
        entries.withLock { log in
            log.limited.flatMap { limited in
                log.sends.filter { $0 > limited.at + known && $0 < limited.at + limited.retryAfter - 0.001 }
                    .map { "sent \($0 - limited.at) s after a 429 with retry-after \(limited.retryAfter)" }
            }
        }
    }
}
