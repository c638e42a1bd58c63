import Foundation

/// Bearer tokens for `/api/`, kept as hashes only: the settings page makes, lists and revokes
/// them, and every API request checks one.
public protocol APITokenStore: Sendable {
    /// Saves a new token's hash; the token itself is never stored.
    func insertAPIToken(name: String, sha256: String, hint: String, at now: Date) throws(StoreError) -> APITokenRecord

    /// Every token, newest first, revoked ones included.
    func apiTokens() throws(StoreError) -> [APITokenRecord]

    /// The live (not revoked) token with this hash, marked as used `now`. An unknown token (a
    /// guess, a scan) must cost no write; a known one writes its "last used" time at most once
    /// a minute, so checking tokens never queues behind the job runner's writes.
    func useAPIToken(sha256: String, at now: Date) throws(StoreError) -> APITokenRecord?

    /// Revokes a token; false when there is no live token with this id.
    @discardableResult
    func revokeAPIToken(id: Int64, at now: Date) throws(StoreError) -> Bool

    /// How many live tokens there are (`scripts/run` creates one when there are none).
    func liveAPITokenCount() throws(StoreError) -> Int
}

extension APITokenStore {
    public func insertAPIToken(name: String, sha256: String, hint: String) throws(StoreError) -> APITokenRecord {
        try insertAPIToken(name: name, sha256: sha256, hint: hint, at: Date())
    }

    public func useAPIToken(sha256: String) throws(StoreError) -> APITokenRecord? {
        try useAPIToken(sha256: sha256, at: Date())
    }

    @discardableResult
    public func revokeAPIToken(id: Int64) throws(StoreError) -> Bool {
        try revokeAPIToken(id: id, at: Date())
    }
}

/// A bearer token for `/api/`, as stored: only its SHA-256 (hex) and its last four characters.
public struct APITokenRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var hint: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(id: Int64, name: String, hint: String, createdAt: Date, lastUsedAt: Date?, revokedAt: Date?) {
        self.id = id
        self.name = name
        self.hint = hint
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}
