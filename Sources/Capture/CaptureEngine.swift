import Foundation
import Front
import Store
import Transport

/// Runs one Front capture: every binding at once, sharing one client (and so one company rate
/// limiter), each page committed with its checkpoint. It only executes what the cursor values
/// (`SnapshotSweep`, `IncrementalCursor`, `EventFeed`, `ConversationWindows`) decide.
///
/// Cancel the task running `run` to stop: each binding stops between pages (a request already
/// sent is let finish), leaving its last committed checkpoint, and the next run goes on from
/// there. A token Front refuses (401, 403) stops every binding at once; any other failure stops
/// only its binding. See docs/captures.md for the whole picture.
public struct CaptureEngine: Sendable {
    /// Search results lag behind activity; the backfill stops this far before "now" and
    /// following events starts there.
    public static let searchLag: Millis = 120_000
    /// Front's API host, when `FRONT_BASE_URL` does not name another.
    public static let defaultBaseURL = FrontClient.defaultBaseURL

    public let config: CaptureConfig
    /// Documents and checkpoints only: the engine knows nothing of jobs or captures, so it runs
    /// the same from the command line, a job, or a test; the fence is all it carries of a job.
    private let store: any DocumentStore
    private let client: FrontClient
    private let now: @Sendable () -> Date
    /// When run as a job: every commit checks, in its transaction, that the job's lease is still
    /// this run's, so a runner that lost its lease (paused, partitioned) writes nothing.
    private let fence: LeaseFence?

    public init(
        config: CaptureConfig, store: any DocumentStore, client: FrontClient, fence: LeaseFence? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.config = config
        self.store = store
        self.client = client
        self.fence = fence
        self.now = now
    }

    /// An engine with its own client. Share one `CompanyRateLimiter` between all captures that
    /// run at once for the same Front company.
    public init(
        config: CaptureConfig, store: any DocumentStore, baseURL: URL = FrontClient.defaultBaseURL,
        transport: any HTTPTransport = URLSessionTransport(), limiter: CompanyRateLimiter = CompanyRateLimiter(),
        fence: LeaseFence? = nil
    ) {
        self.init(
            config: config, store: store,
            client: FrontClient(token: config.token, baseURL: baseURL, transport: transport, limiter: limiter), fence: fence)
    }

    /// Starts the capture in a task of its own: progress as an AsyncStream, a result to await,
    /// `cancel()` to stop between pages. The shape the job runner wants.
    public func start() -> CaptureRun {
        let (stream, continuation) = AsyncStream<BindingProgress>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let task = Task { () async throws -> CaptureSummary in
            defer { continuation.finish() }
            return try await run { continuation.yield($0) }
        }
        return CaptureRun(progress: stream, task: task)
    }

    /// Runs every binding to the end of what Front has now. `progress` hears every change of
    /// every binding (from several tasks; keep it quick).
    public func run(progress: @escaping @Sendable (BindingProgress) -> Void = { _ in }) async throws(CaptureError)
        -> CaptureSummary
    {
        let board = ProgressBoard(bindings: config.bindings, observer: progress)
        let bindings = config.bindings
        let eventsBinding = bindings.first { $0.resource == .events }
        let conversationsBinding = bindings.first { $0.resource == .conversations }

        // Following conversations through events starts now (less the search lag) on the first
        // run, and the backfill's windows end exactly there: no gap between the two.
        var follow: ConversationFollow?
        if let conversationsBinding {
            follow = try await prepareFollow(conversationsBinding)
        }
        let follows = follow

        var jobs: [(collections: [String], work: @Sendable () async throws(CaptureError) -> Void)] = []
        for binding in bindings {
            switch binding.resource {
            case .channels, .inboxes, .tags, .teammates, .teams:
                jobs.append(([binding.collection], { () async throws(CaptureError) in try await snapshot(binding, board) }))
            case .contacts:
                jobs.append(([binding.collection], { () async throws(CaptureError) in try await contacts(binding, board) }))
            case .conversations:
                guard let since = follows?.since else { continue }
                jobs.append(
                    (
                        [binding.collection],
                        { () async throws(CaptureError) in
                            try await backfill(binding, through: since, board)
                        }
                    ))
            case .events:
                break
            }
        }
        if eventsBinding != nil || conversationsBinding != nil {
            let collections = [eventsBinding, conversationsBinding].compactMap { $0?.collection }
            jobs.append(
                (
                    collections,
                    { () async throws(CaptureError) in
                        try await eventFeed(events: eventsBinding, conversations: conversationsBinding, follow: follows, board)
                    }
                ))
        }
        for job in jobs {
            for collection in job.collections { board.addPart(collection) }
        }

        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for job in jobs {
                    group.addTask {
                        for collection in job.collections { board.update(collection) { $0.state = .running } }
                        do throws(CaptureError) {
                            try await job.work()
                            for collection in job.collections where board.finishPart(collection) {
                                board.update(collection) { $0.state = .done }
                            }
                        } catch .cancelled {
                            for collection in job.collections { board.update(collection) { $0.state = .cancelled } }
                            throw CaptureError.cancelled
                        } catch .leaseLost(let job) {
                            // Another runner owns the job now: every binding stops, writing nothing.
                            throw CaptureError.leaseLost(jobID: job)
                        } catch {
                            let why: String
                            if case .front(_, let front) = error { why = front.description } else { why = error.description }
                            for collection in job.collections { board.fail(collection, why) }
                            // A token that is wrong or lacks a scope stops everything at once.
                            if case .front(_, let front) = error, front.isCredentialProblem { throw error }
                        }
                    }
                }
                // Not `waitForAll()`: it waits for every task before rethrowing, so a bad token
                // would still send one request per binding, each paced by the limiter. `next()`
                // rethrows at once, and leaving the group cancels the rest.
                while try await group.next() != nil {}
            }
        } catch let error as CaptureError {
            if case .cancelled = error {
                for progress in board.all where progress.state == .running || progress.state == .waiting {
                    board.update(progress.collection) { $0.state = .cancelled }
                }
            }
            throw error
        } catch {
            throw .cancelled
        }
        let failed = board.failures
        if !failed.isEmpty { throw .bindingsFailed(failed) }
        return CaptureSummary(bindings: board.all)
    }

    // MARK: Bindings

    private func snapshot(_ binding: CaptureBinding, _ board: ProgressBoard) async throws(CaptureError) {
        var sweep = SnapshotSweep(collection: binding.collection)
        var pager = FrontPager(first: client.url(binding.resource.path, [("limit", "100")]), baseURL: client.baseURL)
        var url = pager.current
        while true {
            try checkCancelled()
            let (page, requests) = try await fetch(url, for: binding)
            let next = try wrap(binding) { () throws(FrontError) in try pager.advance(next: page.next) }
            let changes =
                next == nil
                ? sweep.lastPage(page.results, finishedAt: Time.millis(now())) : sweep.page(page.results)
            let counts = try await commit([changes])
            board.update(binding.collection) {
                $0.pages += 1
                $0.requests += requests
                $0.written += counts[0].written
                $0.deleted += counts[0].deleted
                $0.cursor = "\(sweep.seen.count) listed"
            }
            guard let next else { return }
            url = next
        }
    }

    private func contacts(_ binding: CaptureBinding, _ board: ProgressBoard) async throws(CaptureError) {
        var cursor =
            try loadCheckpoint(binding.collection, as: IncrementalCursor.self)
            ?? IncrementalCursor(from: Time.millis(config.startDate))
        var pager = FrontPager(
            first: client.url(
                "/contacts",
                [("q[updated_after]", cursor.after), ("sort_by", "updated_at"), ("sort_order", "asc"), ("limit", "100")]),
            baseURL: client.baseURL)
        var url = pager.current
        while true {
            try checkCancelled()
            let (page, requests) = try await fetch(url, for: binding)
            let next = try wrap(binding) { () throws(FrontError) in try pager.advance(next: page.next) }
            let writes = cursor.admit(page.results, time: \.updatedAt).map {
                DocumentWrite(key: $0.id, json: $0.json, sourceTime: $0.updatedAt)
            }
            let counts = try await commit([
                CollectionChanges(
                    collection: binding.collection, upserts: writes,
                    checkpoints: [try checkpoint(binding.collection, cursor)])
            ])
            board.update(binding.collection) {
                $0.pages += 1
                $0.requests += requests
                $0.written += counts[0].written
                $0.cursor = Time.iso(cursor.cursor)
            }
            guard let next else { return }
            url = next
        }
    }

    private func eventFeed(
        events: CaptureBinding?, conversations: CaptureBinding?, follow: ConversationFollow?, _ board: ProgressBoard
    ) async throws(CaptureError) {
        var eventsCursor: IncrementalCursor?
        if let events {
            eventsCursor =
                try loadCheckpoint(events.collection, as: IncrementalCursor.self)
                ?? IncrementalCursor(from: Time.millis(config.startDate))
        }
        var feed = EventFeed(events: eventsCursor, conversations: conversations == nil ? nil : follow)
        guard let after = feed.after, let owner = events ?? conversations else { return }
        var pager = FrontPager(
            first: client.url(
                "/events", [("q[after]", after), ("sort_by", "created_at"), ("sort_order", "asc"), ("limit", "15")]),
            baseURL: client.baseURL)
        var url = pager.current
        while true {
            try checkCancelled()
            let (page, requests) = try await fetch(url, for: owner)
            let next = try wrap(owner) { () throws(FrontError) in try pager.advance(next: page.next) }
            let (eventWrites, conversationWrites) = feed.take(page.results)
            var changes: [CollectionChanges] = []
            if let events, let cursor = feed.events {
                changes.append(
                    CollectionChanges(
                        collection: events.collection, upserts: eventWrites,
                        checkpoints: [try checkpoint(events.collection, cursor)]))
            }
            if let conversations, let follow = feed.conversations {
                changes.append(
                    CollectionChanges(
                        collection: conversations.collection, upserts: conversationWrites,
                        checkpoints: [try checkpoint(Self.followName(conversations), follow)]))
            }
            let counts = try await commit(changes)
            for (change, count) in zip(changes, counts) {
                board.update(change.collection) {
                    if change.collection == owner.collection {
                        $0.pages += 1
                        $0.requests += requests
                    }
                    $0.written += count.written
                    if change.collection == events?.collection, let cursor = feed.events {
                        $0.cursor = Time.iso(cursor.cursor)
                    }
                }
            }
            guard let next else { return }
            url = next
        }
    }

    private func backfill(_ binding: CaptureBinding, through end: Millis, _ board: ProgressBoard) async throws(CaptureError) {
        var windows =
            try loadCheckpoint(binding.collection, as: ConversationWindows.self)
            ?? ConversationWindows(from: Time.millis(config.startDate), through: end)
        // A follow start later than the windows' end (a run killed before its first commit
        // of both) leaves a gap: search it too.
        windows.extend(through: end)
        while let window = windows.window {
            try checkCancelled()
            var pager = FrontPager(first: client.url(window.path, [("limit", "100")]), baseURL: client.baseURL)
            let (first, firstRequests) = try await fetch(pager.current, for: binding)
            var next = try wrap(binding) { () throws(FrontError) in try pager.advance(next: first.next) }
            var seen = first.results.count
            let decision = windows.firstPage(of: window, total: first.total ?? seen, hasNext: next != nil)
            let done = decision == .windowDone
            try await write(binding, first.results, windows: done ? windows : nil, requests: firstRequests, board)
            guard decision == .readRest else { continue }
            while let url = next {
                try checkCancelled()
                let (page, requests) = try await fetch(url, for: binding)
                next = try wrap(binding) { () throws(FrontError) in try pager.advance(next: page.next) }
                seen += page.results.count
                if next == nil { windows.finished(window, total: max(first.total ?? 0, seen)) }
                try await write(binding, page.results, windows: next == nil ? windows : nil, requests: requests, board)
            }
        }
        board.update(binding.collection) { $0.cursor = "searched to \(Time.iso(windows.end))" }
    }

    private func write(
        _ binding: CaptureBinding, _ conversations: [FrontDocument], windows: ConversationWindows?, requests: Int,
        _ board: ProgressBoard
    ) async throws(CaptureError) {
        var checkpoints: [CheckpointWrite] = []
        if let windows { checkpoints.append(try checkpoint(binding.collection, windows)) }
        let writes = conversations.map { DocumentWrite(key: $0.id, json: $0.json, sourceTime: $0.updatedAt) }
        let counts = try await commit([
            CollectionChanges(collection: binding.collection, upserts: writes, checkpoints: checkpoints)
        ])
        board.update(binding.collection) {
            $0.pages += 1
            $0.requests += requests
            $0.written += counts[0].written
            if let windows { $0.cursor = "searched to \(Time.iso(min(windows.next, windows.end)))" }
        }
    }

    private func prepareFollow(_ binding: CaptureBinding) async throws(CaptureError) -> ConversationFollow {
        let name = Self.followName(binding)
        if let follow = try loadCheckpoint(name, as: ConversationFollow.self) { return follow }
        let since = max(Time.millis(config.startDate), Time.millis(now()) - Self.searchLag)
        let follow = ConversationFollow(since: since)
        _ = try await commit([CollectionChanges(collection: binding.collection, checkpoints: [try checkpoint(name, follow)])])
        return follow
    }

    static func followName(_ binding: CaptureBinding) -> String { "\(binding.collection)#follow" }

    // MARK: Plumbing

    private func fetch(_ url: URL, for binding: CaptureBinding) async throws(CaptureError) -> (FrontPage, Int) {
        do {
            return try await client.page(url)
        } catch .cancelled {
            throw .cancelled
        } catch {
            throw .front(collection: binding.collection, error)
        }
    }

    private func wrap<T>(_ binding: CaptureBinding, _ body: () throws(FrontError) -> T) throws(CaptureError) -> T {
        do {
            return try body()
        } catch {
            throw .front(collection: binding.collection, error)
        }
    }

    private func commit(_ changes: [CollectionChanges]) async throws(CaptureError) -> [WriteCounts] {
        do {
            return try await store.commit(changes, at: now(), fence: fence)
        } catch {
            if error.leaseLost, let fence { throw .leaseLost(jobID: fence.jobID) }
            throw error.isCancellation ? .cancelled : .store(error)
        }
    }

    private func checkCancelled() throws(CaptureError) {
        if Task.isCancelled { throw .cancelled }
    }

    private func loadCheckpoint<T: Decodable>(_ name: String, as type: T.Type) throws(CaptureError) -> T? {
        let data: Data?
        do {
            data = try store.checkpoint(named: name)
        } catch {
            throw .store(error)
        }
        guard let data else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .badCheckpoint(name: name, detail: String(describing: error))
        }
    }

    private func checkpoint(_ name: String, _ value: some Encodable) throws(CaptureError) -> CheckpointWrite {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return CheckpointWrite(name: name, state: try encoder.encode(value))
        } catch {
            throw .badCheckpoint(name: name, detail: String(describing: error))
        }
    }
}

/// A capture started with `CaptureEngine.start()`.
public struct CaptureRun: Sendable {
    /// Every binding's progress as it changes; finishes when the capture ends.
    public let progress: AsyncStream<BindingProgress>
    let task: Task<CaptureSummary, any Error>

    /// Stops between pages; each binding keeps its last committed checkpoint.
    public func cancel() { task.cancel() }

    /// Waits for the end.
    public func result() async throws(CaptureError) -> CaptureSummary {
        do {
            return try await task.value
        } catch let error as CaptureError {
            throw error
        } catch {
            throw .cancelled
        }
    }
}

/// How every binding ended.
public struct CaptureSummary: Sendable, Equatable {
    public var bindings: [BindingProgress]
    public var requests: Int { bindings.reduce(0) { $0 + $1.requests } }
    public var written: Int { bindings.reduce(0) { $0 + $1.written } }
}

/// Why a capture stopped, in words a person can act on.
public enum CaptureError: Error, Sendable, CustomStringConvertible {
    case front(collection: String, FrontError)
    case store(StoreError)
    case badCheckpoint(name: String, detail: String)
    /// Some bindings failed (others may have finished): collection → why.
    case bindingsFailed([String: String])
    case cancelled
    /// The job's lease passed to another runner: this run stopped without writing.
    case leaseLost(jobID: Int64)

    public var description: String {
        switch self {
        case .front(let collection, let error): "\(collection): \(error)"
        case .store(let error): error.description
        case .badCheckpoint(let name, let detail):
            "checkpoint \(name) cannot be read (\(detail)); delete it to start that binding over"
        case .bindingsFailed(let failures):
            failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
        case .cancelled: "capture cancelled; the next run continues from the last checkpoint"
        case .leaseLost(let job):
            "job \(job) was taken over by another runner (this one lost its lease); it stopped without writing"
        }
    }
}
