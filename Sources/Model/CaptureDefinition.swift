import Foundation

/// A saved capture: what to copy from Front and where, as a person defined it. This is the
/// definition; the engine's `CaptureConfig` is what one run is given (the token opened, the
/// start date settled, each resource bound to its collection), so a capture can be stored,
/// listed and shown without the engine, and the engine can run without the store.
///
/// The Front token is kept only sealed (AES-GCM, by the caller); `tokenHint` is its last four
/// characters, all that is ever shown.
public struct CaptureRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// Collections are `prefix/resource` (`acme/channels`).
    public var prefix: String
    public var sealedToken: Data
    public var tokenHint: String
    /// nil: from the beginning.
    public var startDate: Date?
    /// Front resource names, sorted.
    public var resources: [String]
    public var createdAt: Date
    public var createdBy: String?
    public var schedule: CaptureSchedule
    /// When the schedule starts the next run. nil while a run is queued or running (the next is
    /// due once it ends), and when the schedule is manual or paused.
    public var nextRunAt: Date?
    /// The Front company the token belongs to (`cmp_…`, from `/me`), once a run has asked: the
    /// key of the company's rate budget and lease.
    public var frontCompany: String?

    public init(
        id: Int64, name: String, prefix: String, sealedToken: Data, tokenHint: String, startDate: Date?,
        resources: [String], createdAt: Date, createdBy: String?, schedule: CaptureSchedule = .manual,
        nextRunAt: Date? = nil, frontCompany: String? = nil
    ) {
        self.id = id
        self.name = name
        self.prefix = prefix
        self.sealedToken = sealedToken
        self.tokenHint = tokenHint
        self.startDate = startDate
        self.resources = resources
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.schedule = schedule
        self.nextRunAt = nextRunAt
        self.frontCompany = frontCompany
    }

    /// Every collection it writes, by resource.
    public var collections: [String] { resources.map(collection(for:)) }

    public func collection(for resource: String) -> String { "\(prefix)/\(resource)" }
}

/// A capture to save: a definition before the store gave it an id and a creation time.
public struct NewCapture: Sendable {
    public var name: String
    public var prefix: String
    public var sealedToken: Data
    public var tokenHint: String
    public var startDate: Date?
    public var resources: [String]
    public var createdBy: String?
    public var schedule: CaptureSchedule

    public init(
        name: String, prefix: String, sealedToken: Data, tokenHint: String, startDate: Date?, resources: [String],
        createdBy: String? = nil, schedule: CaptureSchedule = .manual
    ) {
        self.name = name
        self.prefix = prefix
        self.sealedToken = sealedToken
        self.tokenHint = tokenHint
        self.startDate = startDate
        self.resources = resources
        self.createdBy = createdBy
        self.schedule = schedule
    }
}

/// A change to a saved capture: each field set is replaced, each nil is kept. The token is
/// replaced sealed, never read back.
public struct CaptureChange: Sendable, Equatable {
    public var name: String?
    public var sealedToken: (token: Data, hint: String)?
    /// `.some(nil)`: from the beginning.
    public var startDate: Date??
    public var resources: [String]?
    public var schedule: CaptureSchedule?
    /// What becomes of the collections (and checkpoints) of resources no longer captured.
    public var removedCollections: CollectionChoice

    public init(
        name: String? = nil, sealedToken: (token: Data, hint: String)? = nil, startDate: Date?? = nil,
        resources: [String]? = nil, schedule: CaptureSchedule? = nil, removedCollections: CollectionChoice = .keep
    ) {
        self.name = name
        self.sealedToken = sealedToken
        self.startDate = startDate
        self.resources = resources
        self.schedule = schedule
        self.removedCollections = removedCollections
    }

    public static func == (lhs: CaptureChange, rhs: CaptureChange) -> Bool {
        lhs.name == rhs.name && lhs.sealedToken?.token == rhs.sealedToken?.token
            && lhs.sealedToken?.hint == rhs.sealedToken?.hint && lhs.startDate == rhs.startDate
            && lhs.resources == rhs.resources && lhs.schedule == rhs.schedule
            && lhs.removedCollections == rhs.removedCollections
    }

    /// Nothing would change.
    public var isEmpty: Bool {
        name == nil && sealedToken == nil && startDate == nil && resources == nil && schedule == nil
    }
}

/// Whether collections a capture stops writing stay (to read or export later) or go, with the
/// checkpoints that say how far they got.
public enum CollectionChoice: String, Sendable, Equatable, CaseIterable {
    case keep, delete
}

/// What a `CaptureChange` does to a capture, decided on the values alone, so that every store
/// backend applies one rule; the backend then does what needs its data: refuse a name taken,
/// refuse deleting collections a running job writes, delete them, and set the next due time.
public struct CaptureEdit: Sendable, Equatable {
    /// The capture as it becomes (its next due time still the old one).
    public var capture: CaptureRecord
    /// The new name, when it is a new one (the backend checks no other capture has it).
    public var newName: String?
    /// Collections of removed resources to delete with their checkpoints (`.delete` chosen).
    public var deletedCollections: [String]
    /// The schedule changed, so the next due time must be worked out again.
    public var scheduleChanged: Bool

    public init(_ change: CaptureChange, of before: CaptureRecord) {
        var capture = before
        newName = change.name.flatMap { $0 == before.name ? nil : $0 }
        if let newName { capture.name = newName }
        if let sealed = change.sealedToken {
            capture.sealedToken = sealed.token
            capture.tokenHint = sealed.hint
            // Another token may belong to another company: ask `/me` again.
            capture.frontCompany = nil
        }
        if let startDate = change.startDate { capture.startDate = startDate }
        deletedCollections = []
        if let resources = change.resources {
            let removed = Set(before.resources).subtracting(resources)
            if change.removedCollections == .delete { deletedCollections = removed.sorted().map(before.collection(for:)) }
            capture.resources = Array(Set(resources)).sorted()
        }
        scheduleChanged = false
        if let schedule = change.schedule, schedule != before.schedule {
            capture.schedule = schedule
            scheduleChanged = true
        }
        self.capture = capture
    }
}
