import Capture
import Foundation
import Model
import Store

/// A collection a capture writes, as a chip that links to the collection's page.
struct CollectionChip: Sendable {
    /// `acme-support/channels`
    let name: String
    /// `channels`
    let resource: String
    let href: String

    static func all(of capture: CaptureRecord) -> [CollectionChip] {
        capture.resources.map { resource in
            let name = capture.collection(for: resource)
            return CollectionChip(name: name, resource: resource, href: Format.collectionPath(name))
        }
    }
}

/// `/captures`: every capture with its collections, its latest job and "Sync now".
struct CaptureListPage: Sendable {
    struct Row: Sendable {
        /// The capture's latest job: its state, and when it last moved.
        struct LastJob: Sendable {
            let id: Int64
            let state: Badge
            let active: Bool
            let when: Stamp
        }

        let id: Int64
        let name: String
        let bindings: [CollectionChip]
        let job: LastJob?
    }

    let captures: [Row]
    let hasCaptures: Bool

    init(captures: [CaptureRecord], latestJobs: [Int64: JobRecord], now: Date) {
        self.captures = captures.map { capture in
            let job = latestJobs[capture.id].map { job in
                let life = job.life
                return Row.LastJob(
                    id: job.id, state: .job(life.state), active: life.isActive,
                    when: Stamp(life.finishedAt ?? life.startedAt ?? life.createdAt, now: now))
            }
            return Row(id: capture.id, name: capture.name, bindings: CollectionChip.all(of: capture), job: job)
        }
        hasCaptures = !captures.isEmpty
    }
}

/// `/captures/new`, and the form sent back with what was wrong: the fields as typed (never
/// the token) and an error per field.
struct NewCapturePage: Sendable {
    struct Resource: Sendable {
        let value: String
        let checked: Bool
        /// `whole list each run` or `incremental`.
        let kind: String
    }

    let name: String
    let startDate: String
    let resources: [Resource]
    let nameError: String?
    let tokenError: String?
    let startDateError: String?
    let resourcesError: String?
    /// Some field needs another look.
    let invalid: Bool

    init(form: CaptureForm, problems: CaptureForm.Problems = .init()) {
        name = form.name
        startDate = form.startText
        resources = FrontResource.allCases.map { resource in
            Resource(
                value: resource.rawValue, checked: form.resources.contains(resource.rawValue),
                kind: resource.isSnapshot ? "whole list each run" : "incremental")
        }
        nameError = problems.name
        tokenError = problems.token
        startDateError = problems.startDate
        resourcesError = problems.resources
        invalid = !problems.isEmpty
    }
}

/// `/captures/{id}`: what the capture copies, from when, and its recent jobs.
struct CapturePage: Sendable {
    /// A row of the recent jobs' table.
    struct RecentJob: Sendable {
        let id: Int64
        let state: Badge
        let created: Stamp
        /// How long it ran (so far), or `—` before it starts.
        let elapsed: String
        let documents: Int
        let requests: Int
        let requestedBy: String
    }

    let id: Int64
    let name: String
    /// The Front token's last four characters.
    let tokenHint: String
    let startDate: String
    /// RFC 3339.
    let created: String
    let createdBy: String?
    let bindings: [CollectionChip]
    let jobs: [RecentJob]
    let hasJobs: Bool

    init(capture: CaptureRecord, jobs: [JobRecord], now: Date) {
        id = capture.id
        name = capture.name
        tokenHint = capture.tokenHint
        startDate = Format.rfc3339(capture.startDate) ?? "the beginning"
        created = Format.rfc3339(capture.createdAt) ?? ""
        createdBy = capture.createdBy.flatMap { $0.isEmpty ? nil : $0 }
        bindings = CollectionChip.all(of: capture)
        self.jobs = jobs.map { job in
            RecentJob(
                id: job.id, state: .job(job.life.state), created: Stamp(job.life.createdAt, now: now),
                elapsed: job.life.elapsedSeconds(at: now).map(Format.duration) ?? "—",
                documents: job.bindings.reduce(0) { $0 + $1.documents }, requests: job.requests,
                requestedBy: job.requestedBy ?? "")
        }
        hasJobs = !jobs.isEmpty
    }
}
