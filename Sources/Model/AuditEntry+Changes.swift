import Foundation

// The entries the store's own changes write, in words: built from the values the change's
// transaction read and wrote, so the audit says what happened rather than what was asked.
// Pure, so every backend writes the same words. Never a token, a hint of one or a secret.
extension NewAuditEntry {
    /// The object name of a capture, a job, an API token or a Fivetran connector.
    public static func object(capture id: Int64) -> String { "capture:\(id)" }
    public static func object(job id: Int64) -> String { "job:\(id)" }
    public static func object(token id: Int64) -> String { "token:\(id)" }
    public static func object(connector id: String) -> String { "connector:\(id)" }

    /// `Acme (channels, tags; every 15 minutes)`.
    public static func captureCreated(_ capture: CaptureRecord, by actor: String?) -> NewAuditEntry {
        NewAuditEntry(
            actor: actor, action: .captureCreated, object: object(capture: capture.id),
            detail: "\(capture.name) (\(capture.resources.sorted().joined(separator: ", ")); \(words(capture.schedule)))")
    }

    /// What differs between `before` and `after`, field by field: `name (Acme → Beta),
    /// schedule (every 15 minutes)`. nil when nothing does (then no entry is written).
    public static func captureChanged(
        from before: CaptureRecord, to after: CaptureRecord, removedCollections: CollectionChoice, by actor: String?
    ) -> NewAuditEntry? {
        var fields: [String] = []
        if before.name != after.name { fields.append("name (\(before.name) → \(after.name))") }
        if before.sealedToken != after.sealedToken { fields.append("Front token (replaced)") }
        if before.startDate != after.startDate {
            fields.append("start date (\(after.startDate.map { $0.formatted(.iso8601) } ?? "the beginning"))")
        }
        if Set(before.resources) != Set(after.resources) {
            var words = after.resources.sorted().joined(separator: ", ")
            let removed = Set(before.resources).subtracting(after.resources).sorted()
            if !removed.isEmpty {
                let fate = removedCollections == .delete ? "collections deleted" : "collections kept"
                words += "; removed \(removed.joined(separator: ", ")), \(fate)"
            }
            fields.append("resources (\(words))")
        }
        if before.schedule != after.schedule { fields.append("schedule (\(Self.words(after.schedule)))") }
        guard !fields.isEmpty else { return nil }
        return NewAuditEntry(
            actor: actor, action: .captureChanged, object: object(capture: after.id), detail: fields.joined(separator: ", "))
    }

    /// `Acme (collections kept)`.
    public static func captureDeleted(
        _ capture: CaptureRecord, collections: CollectionChoice, by actor: String?
    ) -> NewAuditEntry {
        let fate = collections == .delete ? "collections and checkpoints deleted" : "collections kept"
        return NewAuditEntry(
            actor: actor, action: .captureDeleted, object: object(capture: capture.id), detail: "\(capture.name) (\(fate))")
    }

    /// `capture 3 (Acme)`, and the schedule for a run the scheduler started.
    public static func jobStarted(
        _ job: JobRecord, captureName: String?, scheduled: CaptureSchedule? = nil, by actor: String?
    ) -> NewAuditEntry {
        var detail = captureWords(job.captureID, captureName)
        if let scheduled { detail += ", scheduled (\(words(scheduled)))" }
        return NewAuditEntry(actor: actor, action: .jobStarted, object: object(job: job.id), detail: detail)
    }

    /// A cancel that changed something: a queued job cancelled, or a running one asked to stop.
    /// nil for a job that had already ended (nothing changed, so nothing to record).
    public static func jobCancelled(
        _ job: JobRecord, captureName: String?, result: JobLife.CancelResult, by actor: String?
    ) -> NewAuditEntry? {
        let what: String
        switch result {
        case .cancelled: what = "cancelled before it ran"
        case .requested: what = "asked the running job to stop"
        case .alreadyFinished: return nil
        }
        return NewAuditEntry(
            actor: actor, action: .jobCancelled, object: object(job: job.id),
            detail: "\(captureWords(job.captureID, captureName)): \(what)")
    }

    /// The token's name only: never the token, nor its last characters.
    public static func tokenCreated(id: Int64, name: String, by actor: String?) -> NewAuditEntry {
        NewAuditEntry(actor: actor, action: .tokenCreated, object: object(token: id), detail: name)
    }

    public static func tokenRevoked(id: Int64, name: String, by actor: String?) -> NewAuditEntry {
        NewAuditEntry(actor: actor, action: .tokenRevoked, object: object(token: id), detail: name)
    }

    private static func captureWords(_ id: Int64, _ name: String?) -> String {
        name.map { "capture \(id) (\($0))" } ?? "capture \(id)"
    }

    /// "manual", "every 15 minutes", "every hour, paused".
    private static func words(_ schedule: CaptureSchedule) -> String {
        CaptureSchedule(everyMinutes: schedule.everyMinutes).description + (schedule.paused ? ", paused" : "")
    }
}

extension AuditAction {
    /// The action in words, as the audit page says it: "capture created".
    public var words: String {
        switch self {
        case .connectorCreated: "connector created"
        case .connectorChanged: "connector changed"
        case .connectorSynced: "connector sync started"
        case .connectorDeleted: "connector deleted"
        case .captureCreated: "capture created"
        case .captureChanged: "capture changed"
        case .captureDeleted: "capture deleted"
        case .jobStarted: "job started"
        case .jobCancelled: "job cancelled"
        case .tokenCreated: "API token created"
        case .tokenRevoked: "API token revoked"
        }
    }
}
