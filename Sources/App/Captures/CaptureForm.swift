import Capture
import Foundation
import Model
import Web

/// The new-capture and edit forms as typed: what the page shows back, and the fields it hands
/// to `CaptureFields` for the rules the API shares.
struct CaptureForm: Sendable {
    /// The schedule radios' values besides the suggested intervals.
    static let manual = "manual"
    static let other = "other"

    var name: String
    var token: String
    var startText: String
    var resources: Set<String>
    /// `manual`, one of `CaptureSchedule.suggested` as text, or `other` (then `everyMinutes`).
    var schedule: String
    /// The number field beside `other`.
    var everyMinutes: String
    /// Edit only: what becomes of the collections of resources unticked (`keep`, `delete`).
    var removedCollections: String

    /// A new capture: every resource, every 5 minutes.
    static let blank = CaptureForm(
        name: "", token: "", startText: "", resources: Set(FrontResource.allCases.map(\.rawValue)),
        schedule: "\(CaptureSchedule.standard.everyMinutes ?? 5)", everyMinutes: "", removedCollections: "keep")

    init(
        name: String, token: String, startText: String, resources: Set<String>, schedule: String, everyMinutes: String,
        removedCollections: String
    ) {
        self.name = name
        self.token = token
        self.startText = startText
        self.resources = resources
        self.schedule = schedule
        self.everyMinutes = everyMinutes
        self.removedCollections = removedCollections
    }

    init(_ form: Parameters) {
        var schedule = (form["schedule"] ?? "").trimmingCharacters(in: .whitespaces)
        var every = (form["every_minutes"] ?? "").trimmingCharacters(in: .whitespaces)
        // A value no radio has (a script's `schedule=7`) is shown as the number it is.
        if !schedule.isEmpty, schedule != Self.manual, schedule != Self.other,
            !CaptureSchedule.suggested.map(String.init).contains(schedule)
        {
            every = schedule
            schedule = Self.other
        }
        self.init(
            name: (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            token: (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            startText: (form["start_date"] ?? "").trimmingCharacters(in: .whitespaces),
            resources: Set(form.all("resources")), schedule: schedule, everyMinutes: every,
            removedCollections: form["removed_collections"] ?? "")
    }

    /// A saved capture's values, for its edit form (the token is never read back).
    init(capture: CaptureRecord) {
        let minutes = capture.schedule.everyMinutes
        let schedule: String
        var every = ""
        switch minutes {
        case nil: schedule = Self.manual
        case let n? where CaptureSchedule.suggested.contains(n): schedule = "\(n)"
        case let n?:
            schedule = Self.other
            every = "\(n)"
        }
        self.init(
            name: capture.name, token: "", startText: Format.rfc3339(capture.startDate) ?? "",
            resources: Set(capture.resources), schedule: schedule, everyMinutes: every, removedCollections: "keep")
    }

    /// The fields to check. A blank token means "keep it" (on the edit form; the new form then
    /// hears that a token is needed); no schedule at all means the default (or keep).
    var fields: CaptureFields {
        let every: CaptureFields.Every?
        switch schedule {
        case Self.manual: every = .manual
        case Self.other: every = .text(everyMinutes)
        case "": every = everyMinutes.isEmpty ? nil : .text(everyMinutes)
        default: every = .text(schedule)
        }
        return CaptureFields(
            name: name, token: token.isEmpty ? nil : token, startText: startText, resources: resources.sorted(),
            every: every, removedCollections: CollectionChoice(rawValue: removedCollections))
    }
}
