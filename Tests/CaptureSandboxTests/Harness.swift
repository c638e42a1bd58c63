import Capture
import Foundation
import Front
import Sandbox
import Store
import SwitchboardTesting
import Synchronization
import Transport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// After the sandbox's seeded month (January 2025): the engine's clock in these tests, so the
/// search backfill ends at the same instant on every run and request counts repeat exactly.
/// Changes made through `/_sandbox/` carry the real clock, which is later still.
let testNow = Date(timeIntervalSince1970: 1_740_787_200)  // 2025-03-01T00:00:00Z

let sandboxToken = FrontSandbox.Options().tokens.sorted().first!

/// Every resource into a collection named after it.
let allBindings = FrontResource.allCases.map { CaptureBinding(resource: $0, collection: "front/\($0.rawValue)") }

/// `SWITCHBOARD_TEST_SEED`, when set: one more data seed for the stand-in, so CI can vary it.
let environmentSeed: UInt64? = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_SEED"].flatMap { UInt64($0) }

/// The stand-in's data seeds the capture tests that check data run over: the default (1), two
/// that once failed (9: the archive of an archived conversation, and a tag created and deleted
/// between runs; 12: the archive alone), and `SWITCHBOARD_TEST_SEED` when set.
let dataSeeds: [UInt64] = [1, 9, 12] + (environmentSeed.map { [1, 9, 12].contains($0) ? [] : [$0] } ?? [])

func collection(_ resource: FrontResource) -> String { "front/\(resource.rawValue)" }

/// One test's Front sandbox (in process, on a free loopback port) and temp folder.
final class Harness: Sendable {
    let sandbox: FrontSandbox
    let baseURL: URL
    let folder: URL

    static func start(
        seed: UInt64 = environmentSeed ?? 1, _ configure: (inout FrontSandbox.Options) -> Void = { _ in }
    ) async throws -> Harness {
        var options = FrontSandbox.Options()
        options.seed = seed
        options.conversations = 60
        options.eventsPerConversation = 4
        options.contacts = 230
        // A generous budget over a short "minute" (the client's limiter starts out assuming the
        // same length rather than learning it), so tests that are not about pacing are not slowed.
        options.rateLimitPerMinute = 100_000
        options.minuteLength = 6
        options.burstPerSecond = nil
        configure(&options)
        let folder = try makeTemporaryFolder("sb-capture")
        let sandbox = FrontSandbox(options: options)
        try await sandbox.start()
        return Harness(sandbox: sandbox, folder: folder)
    }

    private init(sandbox: FrontSandbox, folder: URL) {
        self.sandbox = sandbox
        baseURL = sandbox.baseURL!
        self.folder = folder
    }

    func stop() async {
        await sandbox.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    func store(_ name: String) throws -> SQLiteStore {
        try SQLiteStore(path: folder.appendingPathComponent("\(name).sqlite").path)
    }

    /// The real engine on the real transport; retries back off quickly so fault tests stay short.
    func engine(
        _ store: SQLiteStore, token: String = sandboxToken, bindings: [CaptureBinding] = allBindings,
        limiter: CompanyRateLimiter = CompanyRateLimiter(limit: 100_000, window: 6),
        clock: FrontClock = .system, transport: any HTTPTransport = URLSessionTransport(),
        now: Date = testNow
    ) -> CaptureEngine {
        let config = CaptureConfig(token: FrontToken(token)!, bindings: bindings)
        let client = FrontClient(
            token: config.token, baseURL: baseURL, transport: transport, limiter: limiter,
            retry: FrontRetryPolicy(attempts: 5, firstBackoff: 0.01, maxBackoff: 0.1), clock: clock)
        return CaptureEngine(config: config, store: store, client: client, now: { now })
    }

    // MARK: The sandbox's own hooks

    func stats() -> [String: Int] { sandbox.stats() }
    func resetStats() { sandbox.resetStats() }

    @discardableResult
    func admin(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        var request = URLRequest(url: baseURL.appendingPathComponent(path))
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw TestFailure("\(method) \(path): \(String(decoding: data, as: UTF8.self))")
        }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func truth() async throws -> Truth { Truth(try await admin("GET", "/_sandbox/truth")) }
}

func millis(_ any: Any?) -> Int64? {
    (any as? NSNumber).map { Int64(($0.doubleValue * 1000).rounded()) }
}

/// What `GET /_sandbox/truth` says a complete, up-to-date capture holds.
struct Truth {
    var json: [String: Any]

    init(_ json: [String: Any]) { self.json = json }

    func ids(_ name: String) -> Set<String> {
        Set((json[name] as? [Any] ?? []).compactMap { ($0 as? String) ?? ($0 as? [String: Any])?["id"] as? String })
    }

    /// id → one field of each object of a list (`updated_at`, `emitted_at`, `status`).
    func field(_ name: String, _ key: String) -> [String: String] {
        var out: [String: String] = [:]
        for case let object as [String: Any] in json[name] as? [Any] ?? [] {
            guard let id = object["id"] as? String else { continue }
            out[id] = describe(object[key])
        }
        return out
    }
}

func describe(_ value: Any?) -> String {
    if let number = value as? NSNumber, let ms = millis(number) { return String(ms) }
    return value.map { "\($0)" } ?? "nil"
}

/// A collection as stored: key → (JSON bytes, deleted).
struct Stored: Equatable {
    var documents: [String: StoredBytes]

    struct StoredBytes: Equatable {
        var json: Data
        var deleted: Bool
    }

    init(_ store: SQLiteStore, _ collection: String) throws {
        var documents: [String: StoredBytes] = [:]
        try store.forEachDocument(in: collection, includingDeleted: true) { document in
            documents[document.key] = StoredBytes(json: document.json, deleted: document.deleted)
        }
        self.documents = documents
    }

    var live: Set<String> { Set(documents.filter { !$0.value.deleted }.keys) }
    var deleted: Set<String> { Set(documents.filter { $0.value.deleted }.keys) }

    /// key → one field of each live document, as `Truth.field` describes it.
    func field(_ key: String) -> [String: String] {
        var out: [String: String] = [:]
        for (id, document) in documents where !document.deleted {
            let object = try? JSONSerialization.jsonObject(with: document.json) as? [String: Any]
            out[id] = describe(object?[key])
        }
        return out
    }
}

/// Differences between the store and the truth, one line each; empty when the capture is right.
func mismatches(_ store: SQLiteStore, _ truth: Truth, bindings: [CaptureBinding] = allBindings) throws -> [String] {
    var problems: [String] = []
    func check<T: Equatable>(_ what: String, _ stored: T, _ expected: T) {
        if stored != expected { problems.append("\(what): stored \(stored), truth \(expected)") }
    }
    for binding in bindings {
        let stored = try Stored(store, binding.collection)
        let name = binding.resource.rawValue
        switch binding.resource {
        case .channels, .inboxes, .teammates, .teams:
            check("\(name) ids", stored.live, truth.ids(name))
        case .tags:
            check("tags updated_at", stored.field("updated_at"), truth.field("tags", "updated_at"))
            // A tag deleted before any run saw it is absent, not marked: nothing was stored to mark.
            let gone = truth.ids("deleted_tag_ids")
            check("deleted tags marked", stored.deleted.intersection(gone), gone.intersection(stored.documents.keys))
        case .contacts:
            check("contacts updated_at", stored.field("updated_at"), truth.field("contacts", "updated_at"))
        case .conversations:
            check("conversations updated_at", stored.field("updated_at"), truth.field("conversations", "updated_at"))
            check("conversations status", stored.field("status"), truth.field("conversations", "status"))
        case .events:
            check("events emitted_at", stored.field("emitted_at"), truth.field("events", "emitted_at"))
        }
    }
    return problems
}

/// Every binding's collection, byte for byte.
func snapshot(_ store: SQLiteStore, bindings: [CaptureBinding] = allBindings) throws -> [String: Stored] {
    var out: [String: Stored] = [:]
    for binding in bindings { out[binding.collection] = try Stored(store, binding.collection) }
    return out
}

/// The real transport, counting answers and calling `onAnswer` with the running count: the
/// tests' way to stop a capture after exactly k requests.
final class CountingTransport: HTTPTransport {
    private let inner = URLSessionTransport()
    private let count = Atomic<Int>(0)
    private let onAnswer: @Sendable (Int) -> Void

    init(onAnswer: @escaping @Sendable (Int) -> Void = { _ in }) { self.onAnswer = onAnswer }

    var answers: Int { count.load(ordering: .relaxed) }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let response = try await inner.send(request)
        let n = count.add(1, ordering: .relaxed).newValue
        onAnswer(n)
        return response
    }
}

/// Cancels a run from inside a transport callback, even one that fires before the run is known.
final class Killer: Sendable {
    private let state = Mutex<(run: CaptureRun?, requested: Bool)>((nil, false))

    func attach(_ run: CaptureRun) {
        let cancelNow = state.withLock { state -> Bool in
            state.run = run
            return state.requested
        }
        if cancelNow { run.cancel() }
    }

    func kill() {
        let run = state.withLock { state -> CaptureRun? in
            state.requested = true
            return state.run
        }
        run?.cancel()
    }
}
