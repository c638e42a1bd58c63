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

    public init(
        id: Int64, name: String, prefix: String, sealedToken: Data, tokenHint: String, startDate: Date?,
        resources: [String], createdAt: Date, createdBy: String?
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
    }

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

    public init(
        name: String, prefix: String, sealedToken: Data, tokenHint: String, startDate: Date?, resources: [String],
        createdBy: String? = nil
    ) {
        self.name = name
        self.prefix = prefix
        self.sealedToken = sealedToken
        self.tokenHint = tokenHint
        self.startDate = startDate
        self.resources = resources
        self.createdBy = createdBy
    }
}
