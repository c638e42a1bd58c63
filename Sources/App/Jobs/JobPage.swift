import Foundation
import Model
import Store

/// `/jobs/{id}`: one job, its bindings' progress, and Cancel while it is active. The page
/// polls the job's JSON (`JobJSON`) to stay live; without JavaScript it refreshes itself.
struct JobPage: Sendable {
    struct Binding: Sendable {
        let name: String
        let href: String
        let state: Badge
        let pages: Int
        let documents: Int
        let deleted: Int
        let requests: Int
        let cursor: String
        /// How far it is, 0–100; 0 while the total is not known.
        let percent: Int
        /// Running with no total known yet: the bar moves without a number.
        let indeterminate: Bool
        /// Not named `error`: a binding without one would show the job's (Mustache looks a
        /// missing name up in the enclosing context).
        let problem: String?

        init(_ binding: BindingProgress) {
            name = binding.name
            href = Format.collectionPath(binding.name)
            state = .binding(binding)
            pages = binding.pages
            documents = binding.documents
            deleted = binding.deleted
            requests = binding.requests
            cursor = Format.rfc3339(binding.positionDate) ?? ""
            percent = binding.fraction.map { Format.whole($0 * 100) } ?? 0
            indeterminate = binding.fraction == nil && binding.state == .running
            problem = binding.error
        }
    }

    let id: Int64
    let state: Badge
    let active: Bool
    /// Cancel was asked for and the job has not stopped yet.
    let cancelRequested: Bool
    let captureID: Int64
    let captureName: String
    /// RFC 3339.
    let created: String
    let finished: String?
    let elapsed: String
    let requests: Int
    let attempts: Int
    /// Run more than once (its runner vanished): it went on from its checkpoint.
    let resumed: Bool
    let requestedBy: String?
    let error: String?
    let bindings: [Binding]
    /// "Sync now" found this job already running (`?already=1`) instead of queuing another.
    let already: Bool

    init(job: JobRecord, capture: CaptureRecord?, askedAgain: Bool, now: Date) {
        let life = job.life
        id = job.id
        state = .job(life.state)
        active = life.isActive
        cancelRequested = life.cancelRequested && life.isActive
        captureID = job.captureID
        captureName = capture?.name ?? "capture \(job.captureID)"
        created = Format.rfc3339(life.createdAt) ?? ""
        finished = Format.rfc3339(life.finishedAt)
        elapsed = life.elapsedSeconds(at: now).map(Format.duration) ?? "not started"
        requests = job.requests
        attempts = life.attempts
        resumed = life.attempts > 1
        requestedBy = job.requestedBy.flatMap { $0.isEmpty ? nil : $0 }
        error = life.error
        bindings = job.bindings.map(Binding.init)
        already = askedAgain && life.isActive
    }
}

extension Badge {
    static func job(_ state: JobState) -> Badge {
        let style =
            switch state {
            case .queued, .running: "badge-info"
            case .succeeded: "badge-ok"
            case .failed: "badge-bad"
            case .cancelled: "badge-warn"
            }
        return Badge(style: style, label: state.rawValue)
    }

    static func binding(_ binding: BindingProgress) -> Badge {
        let style =
            switch binding.state {
            case .done: "badge-ok"
            case .failed: "badge-bad"
            case .running: "badge-info"
            case .waiting, .cancelled: ""
            }
        return Badge(style: style, label: binding.state.rawValue)
    }
}

extension JobLife {
    /// Whole seconds from its start to its end, or to `now` while it runs; nil before it starts.
    func elapsedSeconds(at now: Date) -> Int? {
        startedAt.map { Format.whole((finishedAt ?? now).timeIntervalSince($0)) }
    }
}
