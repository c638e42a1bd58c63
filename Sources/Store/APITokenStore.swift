import Foundation

/// Bearer tokens for `/api/`, kept as hashes only: the settings page makes, lists and revokes
/// them, and every API request checks one.
public protocol APITokenStore: Sendable {
    /// Saves a new token's hash; the token itself is never stored. The audit's `token.created`
    /// entry by `actor` (naming the token, never its value) is written in the same transaction.
    func insertAPIToken(
        name: String, sha256: String, hint: String, by actor: String?, at now: Date
    ) throws(StoreError) -> APITokenRecord

    /// Every token, newest first, revoked ones included.
    func apiTokens() throws(StoreError) -> [APITokenRecord]

    /// The live (not revoked) token with this hash, marked as used `now`. An unknown token (a
    /// guess, a scan) must cost no write; a known one writes its "last used" time at most once
    /// a minute, so checking tokens never queues behind the job runner's writes.
    func useAPIToken(sha256: String, at now: Date) throws(StoreError) -> APITokenRecord?

    /// Revokes a token; false when there is no live token with this id (and no entry is
    /// written). Else its `token.revoked` entry by `actor` is in the same transaction.
    @discardableResult
    func revokeAPIToken(id: Int64, by actor: String?, at now: Date) throws(StoreError) -> Bool

    /// How many live tokens there are (`scripts/run` creates one when there are none).
    func liveAPITokenCount() throws(StoreError) -> Int
}

// Now, unless said otherwise; with no one named the audit says `anonymous`.
extension APITokenStore {
    public func insertAPIToken(
        name: String, sha256: String, hint: String, by actor: String? = nil
    ) throws(StoreError) -> APITokenRecord {
        try insertAPIToken(name: name, sha256: sha256, hint: hint, by: actor, at: Date())
    }

    public func insertAPIToken(name: String, sha256: String, hint: String, at now: Date) throws(StoreError) -> APITokenRecord {
        try insertAPIToken(name: name, sha256: sha256, hint: hint, by: nil, at: now)
    }

    public func useAPIToken(sha256: String) throws(StoreError) -> APITokenRecord? {
        try useAPIToken(sha256: sha256, at: Date())
    }

    @discardableResult
    public func revokeAPIToken(id: Int64, by actor: String? = nil) throws(StoreError) -> Bool {
        try revokeAPIToken(id: id, by: actor, at: Date())
    }

    @discardableResult
    public func revokeAPIToken(id: Int64, at now: Date) throws(StoreError) -> Bool {
        try revokeAPIToken(id: id, by: nil, at: now)
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
