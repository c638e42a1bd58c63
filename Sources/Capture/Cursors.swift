import Foundation
import Front
import Store

/// Milliseconds since 1970: Front's timestamps are seconds with up to three decimals, so
/// whole milliseconds compare exactly where doubles would not.
public typealias Millis = Int64

enum Time {
    static func millis(_ seconds: Double) -> Millis { Millis((seconds * 1000).rounded()) }
    static func millis(_ date: Date) -> Millis { millis(date.timeIntervalSince1970) }
}

/// An incremental binding's position in an ascending stream (events by `emitted_at`, contacts
/// by `updated_at`): everything before `cursor` is captured, and at `cursor` exactly the keys in
/// `keysAtCursor`.
///
/// Asking from one millisecond before the cursor makes the edge inclusive whatever the server's
/// `after` means, and the keys seen at the cursor make sure an edge document is written once:
/// none lost, none twice.
public struct IncrementalCursor: Sendable, Equatable, Codable {
    public private(set) var cursor: Millis
    public private(set) var keysAtCursor: Set<String>

    public init(from start: Millis) {
        cursor = start
        keysAtCursor = []
    }

    /// What to ask from (`q[after]`, `q[updated_after]`, both exclusive): one millisecond
    /// before the cursor.
    public var after: Millis { cursor - 1 }

    /// Takes a page's documents with their stream timestamps; answers the ones not yet captured,
    /// in stream order, and moves the cursor past them. A document without a timestamp is kept
    /// but moves nothing.
    public mutating func admit(_ documents: [FrontDocument], time: (FrontDocument) -> Double?) -> [FrontDocument] {
        let ordered = documents.enumerated().sorted { lhs, rhs in
            let (l, r) = (time(lhs.element).map(Time.millis) ?? .min, time(rhs.element).map(Time.millis) ?? .min)
            return l == r ? lhs.offset < rhs.offset : l < r
        }
        var admitted: [FrontDocument] = []
        for (_, document) in ordered {
            guard let seconds = time(document) else {
                admitted.append(document)
                continue
            }
            let at = Time.millis(seconds)
            if at < cursor { continue }
            if at == cursor {
                guard keysAtCursor.insert(document.id).inserted else { continue }
            } else {
                cursor = at
                keysAtCursor = [document.id]
            }
            admitted.append(document)
        }
        return admitted
    }
}

/// A snapshot binding's sweep: every page's documents are upserted as they come, and when the
/// list has been read to its end, every id not seen is marked deleted. Keys are `/id`, never
/// positions, so a re-ordered list rewrites nothing.
public struct SnapshotSweep: Sendable, Equatable {
    public let collection: String
    public private(set) var seen: Set<String> = []

    public init(collection: String) { self.collection = collection }

    /// What to write for one page that is not the last.
    public mutating func page(_ documents: [FrontDocument]) -> CollectionChanges {
        CollectionChanges(collection: collection, upserts: writes(documents))
    }

    /// What to write for the last page: its documents, the deletions, and the checkpoint.
    public mutating func lastPage(_ documents: [FrontDocument], finishedAt: Millis) throws(CaptureError)
        -> CollectionChanges
    {
        let upserts = writes(documents)
        let checkpoint = try Checkpoint.write(collection, SnapshotCheckpoint(completedAt: finishedAt, count: seen.count))
        return CollectionChanges(
            collection: collection, upserts: upserts, deletions: .allExcept(seen), checkpoints: [checkpoint])
    }

    private mutating func writes(_ documents: [FrontDocument]) -> [DocumentWrite] {
        var writes: [DocumentWrite] = []
        for document in documents where seen.insert(document.id).inserted {
            writes.append(DocumentWrite(key: document.id, json: document.json, sourceTime: document.updatedAt))
        }
        return writes
    }
}

/// What a snapshot binding records when a sweep completes.
public struct SnapshotCheckpoint: Sendable, Equatable, Codable {
    public var completedAt: Millis
    public var count: Int
}

/// One conversations search window: `after:` and `before:` are both inclusive.
public struct SearchWindow: Sendable, Equatable, Codable {
    public var first: Millis
    public var last: Millis

    public var span: Millis { last - first + 1 }
    /// Its first page.
    public var request: FrontRequest { .conversationSearch(after: first, before: last) }
}

/// The conversations backfill as a value: which search window to read next, sized from what
/// the previous ones held. An empty window costs one request and the next is wider; a window
/// far fuller than wanted is split before it is paged through (its checkpoint can only move
/// once the whole window is read, because search answers by activity, not by time).
public struct ConversationWindows: Sendable, Equatable, Codable {
    /// Conversations per window aimed at (a handful of pages between checkpoints).
    public static let target = 500
    /// More than this in one window: split it.
    public static let tooFull = 2_000
    public static let minimumSpan: Millis = 1_000

    /// The first millisecond not yet searched.
    public private(set) var next: Millis
    /// The last millisecond to search (the start of following conversations through events).
    public private(set) var end: Millis
    /// The span to try next.
    public private(set) var span: Millis

    public init(from start: Millis, through end: Millis) {
        next = start
        self.end = end
        span = max(Self.minimumSpan, end - start + 1)
    }

    /// Searched up to `end` already?
    public var isDone: Bool { next > end }

    /// Extends the backfill to a later end (the gap to close before following events).
    public mutating func extend(through newEnd: Millis) {
        if newEnd > end {
            if isDone { span = max(Self.minimumSpan, newEnd - end) }
            end = newEnd
        }
    }

    /// The next window to search, nil when done.
    public var window: SearchWindow? {
        guard !isDone else { return nil }
        return SearchWindow(first: next, last: min(end, next + span - 1))
    }

    public enum FirstPageDecision: Sendable, Equatable {
        /// The window is empty or fits in this page: it is done, take the next.
        case windowDone
        /// Read the rest of the window's pages, then call `finished`.
        case readRest
        /// Too full: drop this window and ask for `window` again (now smaller).
        case split
    }

    /// Fed a window's first page (its `_total` and whether it has a `next`).
    public mutating func firstPage(of window: SearchWindow, total: Int, hasNext: Bool) -> FirstPageDecision {
        if total > Self.tooFull && window.span > Self.minimumSpan && hasNext {
            span = max(Self.minimumSpan, window.span * Millis(Self.target) / Millis(total))
            return .split
        }
        if hasNext { return .readRest }
        finished(window, total: total)
        return .windowDone
    }

    /// The window has been read to its last page.
    public mutating func finished(_ window: SearchWindow, total: Int) {
        next = window.last + 1
        if total == 0 {
            // Empty time: skip ahead fast.
            span = window.span * 8
        } else {
            span = max(Self.minimumSpan, min(window.span * 4, window.span * Millis(Self.target) / Millis(total)))
        }
    }
}

/// Conversations after the backfill: every event from `since` on embeds its conversation's full
/// current state, so a status, tag or assignee change with no new message is captured too.
public struct ConversationFollow: Sendable, Equatable, Codable {
    /// Where following started; the backfill's windows reach exactly here, so no time is missed.
    public var since: Millis
    public var events: IncrementalCursor

    public init(since: Millis) {
        self.since = since
        events = IncrementalCursor(from: since)
    }
}

/// The shared `/events` feed as a value: one request serves both the events binding and the
/// conversations that follow events. Each keeps its own cursor; the feed asks from the earlier.
public struct EventFeed: Sendable, Equatable {
    public var events: IncrementalCursor?
    public var conversations: ConversationFollow?

    public init(events: IncrementalCursor?, conversations: ConversationFollow?) {
        self.events = events
        self.conversations = conversations
    }

    /// `q[after]` of the feed's first request: from the earlier of the two cursors.
    public var after: Millis? {
        [events?.after, conversations?.events.after].compactMap { $0 }.min()
    }

    /// Splits one page of events into what each binding writes.
    public mutating func take(_ page: [FrontDocument]) -> (events: [DocumentWrite], conversations: [DocumentWrite]) {
        var eventWrites: [DocumentWrite] = []
        var conversationWrites: [DocumentWrite] = []
        if var cursor = events {
            eventWrites = cursor.admit(page, time: \.emittedAt).map {
                DocumentWrite(key: $0.id, json: $0.json, sourceTime: $0.emittedAt)
            }
            events = cursor
        }
        if var follow = conversations {
            // Ascending events: a later event's copy of a conversation replaces an earlier one.
            var latest: [String: (order: Int, write: DocumentWrite)] = [:]
            for (order, event) in follow.events.admit(page, time: \.emittedAt).enumerated() {
                guard let conversation = event.conversation else { continue }
                latest[conversation.id] = (
                    order, DocumentWrite(key: conversation.id, json: conversation.json, sourceTime: conversation.updatedAt)
                )
            }
            conversationWrites = latest.values.sorted { $0.order < $1.order }.map(\.write)
            conversations = follow
        }
        return (eventWrites, conversationWrites)
    }
}
