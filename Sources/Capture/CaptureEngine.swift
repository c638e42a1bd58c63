import Foundation
import Front
import Model
import Store
import Transport

/// Runs one Front capture: every binding at once, sharing one client (and so one company rate
/// limiter), each page committed with its checkpoint. It only executes what the state machines
/// (`SnapshotStateMachine`, `ContactsStateMachine`, `EventFeedStateMachine`,
/// `ConversationSearchStateMachine`) decide, all through one loop.
///
/// Cancel the task running `run` to stop: each binding stops between pages (a request already
/// sent is let finish), leaving its last committed checkpoint, and the next run goes on from
/// there. A token Front refuses (401, 403) stops every binding at once; any other failure stops
/// only its binding. See docs/captures.md for the whole picture.
public struct CaptureEngine: Sendable {
    /// Search results lag behind activity; without events bound, the backfill stops this far
    /// before "now" and following events starts there.
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
        let board = ProgressBoard(bindings: config.bindings, start: config.startDate, now: now, observer: progress)
        let machines = try await machines()
        for (part, machine) in machines.enumerated() {
            for collection in machine.collections { board.add(part: part, to: collection) }
        }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (part, machine) in machines.enumerated() {
                    group.addTask {
                        for collection in machine.collections { board.setState(collection, .running) }
                        do throws(CaptureError) {
                            try await drive(machine, part: part, board)
                            board.finish(part: part, collections: machine.collections)
                        } catch .cancelled {
                            for collection in machine.collections { board.setState(collection, .cancelled) }
                            throw CaptureError.cancelled
                        } catch .leaseLost(let job) {
                            // Another runner owns the job now: every binding stops, writing nothing.
                            throw CaptureError.leaseLost(jobID: job)
                        } catch {
                            // A token that is wrong or lacks a scope stops everything at once.
                            var stopsAll = false
                            if case .front(_, let front) = error, front.isCredentialProblem {
                                board.halt(error)
                                stopsAll = true
                            }
                            let why: String
                            if case .front(_, let front) = error { why = front.description } else { why = error.description }
                            for collection in machine.collections { board.fail(collection, why) }
                            if stopsAll { throw error }
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
                    board.setState(progress.name, .cancelled)
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

    /// The one loop every binding runs: fetch what the machine asks for, hand it the page, commit
    /// the step (the fence checked in that transaction), report. Cancellation is checked between
    /// pages only: a page read is always committed.
    private func drive(_ start: any BindingStateMachine, part: Int, _ board: ProgressBoard) async throws(CaptureError) {
        var machine = start
        while let request = machine.nextRequest() {
            if Task.isCancelled { throw .cancelled }
            if let error = board.halted { throw error }
            let (page, requests) = try await fetch(request, for: machine.owner)
            let step = try machine.received(page)
            let counts = try await commit(step.changes)
            board.record(part: part, owner: machine.owner, requests: requests, step: step, counts: counts)
        }
    }

    // MARK: Which machines a run needs

    /// A state machine per binding kind, from the checkpoints: snapshots and contacts one each;
    /// events and the conversations that follow them share the one event feed; a search backfill
    /// only where events do not cover conversations.
    private func machines() async throws(CaptureError) -> [any BindingStateMachine] {
        let start = Time.millis(config.startDate)
        var machines: [any BindingStateMachine] = []
        for binding in config.bindings {
            if let list = binding.resource.list {
                machines.append(SnapshotStateMachine(list: list, collection: binding.collection, startedAt: Time.millis(now())))
            } else if binding.resource == .contacts {
                let cursor =
                    try loadCheckpoint(binding.collection, as: IncrementalCursor.self) ?? IncrementalCursor(from: start)
                machines.append(ContactsStateMachine(collection: binding.collection, cursor: cursor))
            }
        }
        let events = config.bindings.first { $0.resource == .events }
        var eventsCursor: (collection: String, cursor: IncrementalCursor)?
        if let events {
            let cursor = try loadCheckpoint(events.collection, as: IncrementalCursor.self) ?? IncrementalCursor(from: start)
            eventsCursor = (events.collection, cursor)
        }
        var following: (collection: String, follow: ConversationFollow)?
        if let conversations = config.bindings.first(where: { $0.resource == .conversations }) {
            let follow = try await prepareFollow(conversations, eventsBound: events != nil)
            following = (conversations.collection, follow)
            if let search = try backfill(conversations, through: follow.since - 1, eventsBound: events != nil) {
                machines.append(search)
            }
        }
        if let feed = EventFeedStateMachine(events: eventsCursor, conversations: following) {
            machines.append(feed)
        }
        return machines
    }

    /// Where conversations start following events. With events bound, at the start date: every
    /// conversation with a message or comment since then has an event since then (Front emits one
    /// for each, at or after the message's own time, imports included; so does the stand-in,
    /// `FrontWorld.apply`), and that event embeds the conversation's current state, so the feed
    /// alone captures them all — status, tag and assignee changes too — at no request of its own,
    /// and no conversation is left that only a search would find. (The one change with no event,
    /// a deleted tag dropping off conversations, is no activity either: search misses it too.)
    /// Without events, "now" less the search lag, saved before anything else so that the
    /// backfill's end stays put across restarts.
    private func prepareFollow(_ binding: CaptureBinding, eventsBound: Bool) async throws(CaptureError) -> ConversationFollow {
        let name = EventFeedStateMachine.followName(binding.collection)
        if let follow = try loadCheckpoint(name, as: ConversationFollow.self) { return follow }
        let start = Time.millis(config.startDate)
        if eventsBound { return ConversationFollow(since: start) }
        let follow = ConversationFollow(since: max(start, Time.millis(now()) - Self.searchLag))
        _ = try await commit([
            CollectionChanges(collection: binding.collection, checkpoints: [try Checkpoint.write(name, follow)])
        ])
        return follow
    }

    /// The search backfill up to the follow start, when events are not bound; with events bound
    /// only to finish one an earlier version began (it followed events from "now" on, so the time
    /// before that is covered by nothing else). Nil when there is nothing to search.
    private func backfill(_ binding: CaptureBinding, through end: Millis, eventsBound: Bool) throws(CaptureError)
        -> ConversationSearchStateMachine?
    {
        let saved = try loadCheckpoint(binding.collection, as: ConversationWindows.self)
        var windows: ConversationWindows
        if eventsBound {
            guard let saved, !saved.isDone else { return nil }
            windows = saved
        } else {
            windows = saved ?? ConversationWindows(from: Time.millis(config.startDate), through: end)
            // A follow start later than the windows' end (a run killed before its first commit
            // of both) leaves a gap: search it too.
            windows.extend(through: end)
        }
        return windows.isDone ? nil : ConversationSearchStateMachine(collection: binding.collection, windows: windows)
    }

    // MARK: Plumbing

    private func fetch(_ request: FrontRequest, for collection: String) async throws(CaptureError) -> (FrontPage, Int) {
        do {
            return try await client.page(request)
        } catch .cancelled {
            throw .cancelled
        } catch {
            throw .front(collection: collection, error)
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

    private func loadCheckpoint<T: Decodable>(_ name: String, as type: T.Type) throws(CaptureError) -> T? {
        let data: Data?
        do {
            data = try store.checkpoint(named: name)
        } catch {
            throw .store(error)
        }
        return try Checkpoint.read(data, name: name, as: T.self)
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
    /// Documents that changed in the store, every binding together.
    public var written: Int { bindings.reduce(0) { $0 + $1.documents } }
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
