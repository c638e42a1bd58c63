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
