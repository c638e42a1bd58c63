import Foundation

/// One line of the audit: who did what to which object through Switchboard, and how it ended.
/// Appended, never edited: local changes write it in the transaction of the change, remote
/// ones (Fivetran) right after Fivetran answers, so the audit says what really happened.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var at: Date
    /// nginx's `REMOTE_USER`, `api:<token name>`, or `schedule` for what the scheduler starts.
    public var actor: String
    public var action: AuditAction
    /// `connector:ID`, `capture:ID`, `job:ID`, `token:ID`.
    public var object: String
    /// What changed, in words (`paused: true`, `sync_frequency: 60`); never a secret.
    public var detail: String?
    /// nil: done; else the error, in words.
    public var error: String?

    public init(
        id: Int64, at: Date, actor: String, action: AuditAction, object: String, detail: String? = nil,
        error: String? = nil
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.object = object
        self.detail = detail
        self.error = error
    }

    public var succeeded: Bool { error == nil }
}

/// An entry before the store numbered it.
public struct NewAuditEntry: Sendable, Equatable {
    public var actor: String
    public var action: AuditAction
    public var object: String
    public var detail: String?
    public var error: String?

    public init(actor: String?, action: AuditAction, object: String, detail: String? = nil, error: String? = nil) {
        // Behind no auth_basic there is no name to record; say so rather than leave it blank.
        self.actor = actor.flatMap { $0.isEmpty ? nil : $0 } ?? "anonymous"
        self.action = action
        self.object = object
        self.detail = detail
        self.error = error
    }
}

/// Every change Switchboard makes that the audit records.
public enum AuditAction: String, Sendable, Equatable, Codable, CaseIterable {
    case connectorCreated = "connector.created"
    case connectorChanged = "connector.changed"
    case connectorSynced = "connector.synced"
    case connectorDeleted = "connector.deleted"
    case captureCreated = "capture.created"
    case captureChanged = "capture.changed"
    case captureDeleted = "capture.deleted"
    case jobStarted = "job.started"
    case jobCancelled = "job.cancelled"
    case tokenCreated = "token.created"
    case tokenRevoked = "token.revoked"
}

/// Which audit entries to list, newest first.
public struct AuditFilter: Sendable, Equatable {
    public var object: String?
    public var actor: String?
    public var action: AuditAction?
    public var limit: Int
    public var offset: Int

    public init(object: String? = nil, actor: String? = nil, action: AuditAction? = nil, limit: Int = 50, offset: Int = 0) {
        self.object = object
        self.actor = actor
        self.action = action
        self.limit = limit
        self.offset = offset
    }
}
