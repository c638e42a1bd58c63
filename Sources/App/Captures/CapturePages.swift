import Capture
import Foundation
import Model
import Store
import Web

/// A collection a capture writes, as a chip that links to the collection's page, with how
/// fresh it is.
struct CollectionChip: Sendable {
    /// `acme-support/channels`
    let name: String
    /// `channels`
    let resource: String
    let href: String
    /// "as of 2 min ago", or "not yet brought up to date" before a run finished it. (Not
    /// optional: a missing value would be looked up in the enclosing context.)
    let freshness: String
    /// RFC 3339 of that moment, or "".
    let freshnessISO: String

    static func all(of capture: CaptureRecord, asOf: [String: Date], now: Date) -> [CollectionChip] {
        capture.resources.map { resource in
            let name = capture.collection(for: resource)
            let date = asOf[name]
            return CollectionChip(
                name: name, resource: resource, href: Format.collectionPath(name),
                freshness: date.map { "as of " + Format.ago($0, now: now) } ?? "not yet brought up to date",
                freshnessISO: Format.rfc3339(date) ?? "")
        }
    }
}

/// When a capture runs next, in words: "in 3 min", "due now", "after the running job",
/// "paused", "manual".
struct NextRun: Sendable, Equatable {
    let words: String
    /// RFC 3339 when a time is known, else "" (and `timed` false: an empty string is truthy in
    /// a Mustache section).
    let iso: String
    let timed: Bool

    init(schedule: CaptureSchedule, nextRunAt: Date?, jobActive: Bool, now: Date) {
        var iso = ""
        if schedule.everyMinutes == nil {
            words = "manual"
        } else if schedule.paused {
            words = "paused"
        } else if jobActive {
            words = "after the running job"
        } else if let nextRunAt {
            words = Format.until(nextRunAt, now: now)
            iso = Format.rfc3339(nextRunAt) ?? ""
        } else {
            // Active with no due time and nothing running: the scheduler starts it at its next look.
            words = "due now"
        }
        self.iso = iso
        timed = !iso.isEmpty
    }
}

/// What a page says after a form sent the visitor back to it (`?notice=…`): fixed words, so a
/// link cannot make the page say anything else.
enum CaptureNotice: String, Sendable {
    case saved, paused, resumed, deleted
    case deletedCollections = "deleted-collections"

    var text: String {
        switch self {
        case .saved: "Saved. A job that is running keeps what it started with; the changes apply from the next run."
        case .paused: "Paused: no run starts by itself until you resume. Sync now still works."
        case .resumed: "Resumed: the schedule starts runs again."
        case .deleted: "The capture was deleted. Its collections were kept: find them under Collections."
        case .deletedCollections: "The capture was deleted, with its collections and checkpoints."
        }
    }

    init?(_ request: Request) {
        guard let value = request.query["notice"], let notice = CaptureNotice(rawValue: value) else { return nil }
        self = notice
    }
}

/// `/captures`: every capture with its schedule, next run, collections (and how fresh each is),
/// its latest job and "Sync now".
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
        /// "every 5 minutes", "manual", "every hour (paused)".
        let schedule: String
        let nextRun: NextRun
    }

    let captures: [Row]
    let hasCaptures: Bool
    let notice: String?

    init(
        captures: [CaptureRecord], latestJobs: [Int64: JobRecord], asOf: [String: Date] = [:], now: Date,
        notice: CaptureNotice? = nil
    ) {
        self.captures = captures.map { capture in
            let latest = latestJobs[capture.id]
            let job = latest.map { job in
                let life = job.life
                return Row.LastJob(
                    id: job.id, state: .job(life.state), active: life.isActive,
                    when: Stamp(life.finishedAt ?? life.startedAt ?? life.createdAt, now: now))
            }
            return Row(
                id: capture.id, name: capture.name, bindings: CollectionChip.all(of: capture, asOf: asOf, now: now),
                job: job, schedule: capture.schedule.description,
                nextRun: NextRun(
                    schedule: capture.schedule, nextRunAt: capture.nextRunAt, jobActive: latest?.life.isActive ?? false,
                    now: now))
        }
        hasCaptures = !captures.isEmpty
        self.notice = notice?.text
    }
}

/// The new-capture form and a capture's edit form, and either sent back with what was wrong:
/// the fields as typed (never the token) and an error per field.
struct CaptureFormPage: Sendable {
    struct Resource: Sendable {
        let value: String
        let checked: Bool
        /// `whole list each run` or `incremental`.
        let kind: String
    }

    /// A radio of the schedule.
    struct Interval: Sendable {
        let value: String
        let label: String
        let checked: Bool
    }

    /// A radio of what becomes of removed resources' collections.
    struct Choice: Sendable {
        let value: String
        let label: String
        let checked: Bool
    }

    /// Where the form posts.
    let action: String
    let heading: String
    let submitLabel: String
    /// The capture being edited; nil on the new form.
    let captureID: Int64?
    let editing: Bool
    /// The saved token's last four characters (edit only).
    let tokenHint: String
    /// A job of this capture is queued or running (edit only): its id.
    let runningJobID: Int64?

    let name: String
    let startDate: String
    let resources: [Resource]
    let intervals: [Interval]
    let otherChecked: Bool
    let everyMinutes: String
    let removedChoices: [Choice]

    let nameError: String?
    let tokenError: String?
    let startDateError: String?
    let resourcesError: String?
    let scheduleError: String?
    /// A refusal of the whole change (a running job writes the collections to delete).
    let conflict: String?
    /// Some field needs another look.
    let invalid: Bool

    /// The new-capture form.
    init(new form: CaptureForm, problems: CaptureFields.Problems = [:]) {
        self.init(
            form: form, problems: problems, action: "/captures", heading: "New capture", submitLabel: "Save and sync",
            capture: nil, runningJobID: nil, conflict: nil)
    }

    /// `capture`'s edit form.
    init(
        edit form: CaptureForm, capture: CaptureRecord, runningJobID: Int64?, problems: CaptureFields.Problems = [:],
        conflict: String? = nil
    ) {
        self.init(
            form: form, problems: problems, action: "/captures/\(capture.id)/edit", heading: "Edit \(capture.name)",
            submitLabel: "Save changes", capture: capture, runningJobID: runningJobID, conflict: conflict)
    }

    private init(
        form: CaptureForm, problems: CaptureFields.Problems, action: String, heading: String, submitLabel: String,
        capture: CaptureRecord?, runningJobID: Int64?, conflict: String?
    ) {
        self.action = action
        self.heading = heading
        self.submitLabel = submitLabel
        captureID = capture?.id
        editing = capture != nil
        tokenHint = capture?.tokenHint ?? ""
        self.runningJobID = runningJobID
        name = form.name
        startDate = form.startText
        resources = FrontResource.allCases.map { resource in
            Resource(
                value: resource.rawValue, checked: form.resources.contains(resource.rawValue),
                kind: resource.isSnapshot ? "whole list each run" : "incremental")
        }
        intervals =
            [
                Interval(
                    value: CaptureForm.manual, label: "Manual (Sync now or a script)",
                    checked: form.schedule == CaptureForm.manual)
            ]
            + CaptureSchedule.suggested.map { minutes in
                Interval(
                    value: "\(minutes)", label: CaptureSchedule(everyMinutes: minutes).description.capitalizedFirst,
                    checked: form.schedule == "\(minutes)")
            }
        otherChecked = form.schedule == CaptureForm.other
        everyMinutes = form.everyMinutes
        let removed = CollectionChoice(rawValue: form.removedCollections) ?? .keep
        removedChoices = [
            Choice(value: "keep", label: "keep them (to read or export later)", checked: removed == .keep),
            Choice(value: "delete", label: "delete them and their checkpoints", checked: removed == .delete),
        ]
        nameError = problems[.name]
        tokenError = problems[.token]
        startDateError = problems[.startDate]
        resourcesError = problems[.resources]
        scheduleError = problems[.schedule]
        self.conflict = conflict
        invalid = !problems.isEmpty
    }
}

/// `/captures/{id}/delete`: the name to type, and what becomes of the collections.
struct DeleteCapturePage: Sendable {
    let id: Int64
    let name: String
    let collections: [CollectionChip]
    let keepChecked: Bool
    let deleteChecked: Bool
    /// What was typed, sent back when it did not match.
    let typed: String
    let confirmError: String?
    let choiceError: String?
    let conflict: String?

    init(
        capture: CaptureRecord, choice: CollectionChoice? = .keep, typed: String = "", confirmError: String? = nil,
        choiceError: String? = nil, conflict: String? = nil, asOf: [String: Date] = [:], now: Date = Date()
    ) {
        id = capture.id
        name = capture.name
        collections = CollectionChip.all(of: capture, asOf: asOf, now: now)
        keepChecked = choice == .keep
        deleteChecked = choice == .delete
        self.typed = typed
        self.confirmError = confirmError
        self.choiceError = choiceError
        self.conflict = conflict
    }
}

extension String {
    /// "Every 5 minutes" from "every 5 minutes".
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}

/// `/captures/{id}`: what the capture copies, from when, on what schedule, a chart of its
/// recent runs and a table of the latest ones.
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

    /// Rows in the table (the chart shows up to `HistoryChart.limit`).
    static let tableRows = 20

    let id: Int64
    let name: String
    /// The Front token's last four characters.
    let tokenHint: String
    let startDate: String
    /// RFC 3339.
    let created: String
    let createdBy: String?
    let bindings: [CollectionChip]
    /// "every 5 minutes", "manual", "every hour (paused)".
    let schedule: String
    let nextRun: NextRun
    /// Pause is offered while the schedule runs by itself; Resume while it is paused.
    let canPause: Bool
    let canResume: Bool
    let notice: String?
    /// The SVG of the recent runs (`HistoryChart`), escaped where it holds text: placed as is.
    let chart: String
    let jobs: [RecentJob]
    let hasJobs: Bool
    /// The capture's latest audit entries, with the link to all of them.
    let audit: AuditExcerpt

    /// `jobs`: newest first, as the store lists them; `audit`: the capture's latest entries.
    init(
        capture: CaptureRecord, jobs: [JobRecord], asOf: [String: Date] = [:], now: Date, notice: CaptureNotice? = nil,
        audit: [AuditEntry] = []
    ) {
        id = capture.id
        name = capture.name
        tokenHint = capture.tokenHint
        startDate = Format.rfc3339(capture.startDate) ?? "the beginning"
        created = Format.rfc3339(capture.createdAt) ?? ""
        createdBy = capture.createdBy.flatMap { $0.isEmpty ? nil : $0 }
        bindings = CollectionChip.all(of: capture, asOf: asOf, now: now)
        schedule = capture.schedule.description
        nextRun = NextRun(
            schedule: capture.schedule, nextRunAt: capture.nextRunAt, jobActive: jobs.first?.life.isActive ?? false,
            now: now)
        canPause = capture.schedule.everyMinutes != nil && !capture.schedule.paused
        canResume = capture.schedule.paused
        self.notice = notice?.text
        chart = HistoryChart(jobs: jobs, captureName: capture.name, now: now).svg
        self.jobs = jobs.prefix(Self.tableRows).map { job in
            RecentJob(
                id: job.id, state: .job(job.life.state), created: Stamp(job.life.createdAt, now: now),
                elapsed: job.life.elapsedSeconds(at: now).map(Format.duration) ?? "—",
                documents: job.bindings.reduce(0) { $0 + $1.documents }, requests: job.requests,
                requestedBy: job.requestedBy ?? "")
        }
        hasJobs = !jobs.isEmpty
        self.audit = AuditExcerpt(object: NewAuditEntry.object(capture: capture.id), entries: audit, now: now)
    }
}
