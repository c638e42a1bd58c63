import Capture
import Foundation
import Jobs
import Model
import Web

/// A capture's fields as a person typed them on a form or a script sent them to the API,
/// before they are checked: the one set of rules both answer with. nil is "not given": the
/// default when creating, "keep it" when editing.
struct CaptureFields: Sendable {
    /// A field, as problems are reported under it.
    enum Field: String, Sendable, CaseIterable {
        case name, token, startDate, resources, schedule, paused, removedCollections

        /// As the API's JSON spells it.
        var apiName: String {
            switch self {
            case .name: "name"
            case .token: "access_token"
            case .startDate: "start_date"
            case .resources: "resources"
            case .schedule: "every_minutes"
            case .paused: "paused"
            case .removedCollections: "removed_collections"
            }
        }
    }

    /// How often it runs, as given.
    enum Every: Sendable, Equatable {
        case manual
        /// What a form's field held (`5`, or the number typed).
        case text(String)
        /// What a script's JSON held.
        case number(Double)
    }

    /// What is wrong, in words, by field; empty when the fields can be saved.
    typealias Problems = [Field: String]

    var name: String?
    var token: String?
    /// `""`: from the beginning.
    var startText: String?
    var resources: [String]?
    var every: Every?
    var paused: Bool?
    var removedCollections: CollectionChoice?

    /// The fields read and checked: a new capture or a change is made of these.
    struct Checked: Sendable {
        var name: String?
        var token: String?
        /// `.some(nil)`: from the beginning.
        var startDate: Date??
        /// Sorted.
        var resources: [String]?
        /// `.some(nil)`: manual.
        var everyMinutes: Int??
        var paused: Bool?
        var removedCollections: CollectionChoice?
    }

    /// Checks every field given; `creating` also needs a name and a token.
    func check(creating: Bool) -> (Checked, Problems) {
        var checked = Checked(paused: paused, removedCollections: removedCollections)
        var problems = Problems()
        if let name {
            if let problem = Self.nameProblem(name) { problems[.name] = problem } else { checked.name = name }
        } else if creating {
            problems[.name] = Self.nameProblem("")
        }
        if let token {
            if let problem = Self.tokenProblem(token) { problems[.token] = problem } else { checked.token = token }
        } else if creating {
            problems[.token] = Self.tokenProblem("")
        }
        if let startText {
            if startText.isEmpty {
                checked.startDate = .some(nil)
            } else if let date = Self.parseStart(startText) {
                checked.startDate = date
            } else {
                problems[.startDate] =
                    "Write the start date as YYYY-MM-DDTHH:MM:SSZ (UTC), such as 2024-11-15T00:00:00Z, or leave it empty."
            }
        }
        if let resources {
            let known = Set(FrontResource.allCases.map(\.rawValue))
            let given = Set(resources)
            if given.isEmpty {
                problems[.resources] = "Choose at least one resource to copy."
            } else if !given.isSubset(of: known) {
                problems[.resources] =
                    "Unknown resource: \(given.subtracting(known).sorted().joined(separator: ", ")). "
                    + "The resources are \(known.sorted().joined(separator: ", "))."
            } else {
                checked.resources = given.sorted()
            }
        }
        if let every {
            if let minutes = Self.minutes(every) {
                checked.everyMinutes = minutes
            } else {
                problems[.schedule] = Self.everyProblem
            }
        }
        return (checked, problems)
    }

    static let everyProblem =
        "Choose manual, or every 1 to 1,440 minutes (a whole number: 5 is every five minutes, 1,440 once a day)."

    /// `.some(nil)` for manual, the minutes when they are a whole number in range, nil otherwise.
    static func minutes(_ every: Every) -> Int?? {
        switch every {
        case .manual:
            return .some(nil)
        case .text(let text):
            let digits = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
            guard digits.count <= 5, let value = Int(digits), CaptureSchedule.minutes.contains(value) else { return nil }
            return value
        case .number(let value):
            guard value.isFinite, value.rounded() == value, value >= 1, value <= 1_440 else { return nil }
            return Int(value)
        }
    }

    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "Give the capture a name, such as your Front company's." }
        if name.count > 100 { return "Keep the name to 100 characters or fewer." }
        if prefix(of: name).isEmpty { return "Use at least one letter or digit in the name: it names the collections." }
        return nil
    }

    static func tokenProblem(_ token: String) -> String? {
        if token.isEmpty { return "Paste a Front API token (Front → Settings → Developers → API tokens)." }
        if token.count < 8 || token.contains(where: \.isWhitespace) {
            return "This does not look like a Front API token: it should be one long word with no spaces."
        }
        return nil
    }

    /// The collections' prefix: the name in lower case, runs of other characters as `-`.
    static func prefix(of name: String) -> String {
        var out = ""
        for scalar in name.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty && !out.hasSuffix("-") {
                out += "-"
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return String(out.prefix(60))
    }

    /// The connector's `YYYY-MM-DDTHH:MM:SSZ`, or what a `datetime-local` field sends
    /// (`YYYY-MM-DDTHH:MM[:SS]`, taken as UTC).
    static func parseStart(_ text: String) -> Date? {
        if let date = CaptureConfig.parseStartDate(text) { return date }
        if text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/#) != nil { return CaptureConfig.parseStartDate(text + ":00Z") }
        if text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/#) != nil { return CaptureConfig.parseStartDate(text + "Z") }
        return nil
    }
}

extension CaptureFields.Checked {
    /// A new capture (name and token are there once `check(creating: true)` found nothing):
    /// every resource unless some were named, every 5 minutes unless said otherwise.
    func newCapture(box: SecretBox, createdBy: String?) throws(HTTPError) -> NewCapture {
        let name = name ?? ""
        let token = token ?? ""
        let schedule = CaptureSchedule(
            everyMinutes: everyMinutes ?? CaptureSchedule.standard.everyMinutes, paused: paused ?? false)
        return NewCapture(
            name: name, prefix: CaptureFields.prefix(of: name), sealedToken: try Self.seal(token, box: box),
            tokenHint: String(token.suffix(4)), startDate: startDate ?? nil,
            resources: resources ?? FrontResource.allCases.map(\.rawValue).sorted(), createdBy: createdBy,
            schedule: schedule)
    }

    /// The change from `current` these fields make: only what differs, the token only when a
    /// new one was given.
    func change(from current: CaptureRecord, box: SecretBox) throws(HTTPError) -> CaptureChange {
        var change = CaptureChange(removedCollections: removedCollections ?? .keep)
        if let name, name != current.name { change.name = name }
        if let token { change.sealedToken = (try Self.seal(token, box: box), String(token.suffix(4))) }
        if let startDate, startDate != current.startDate { change.startDate = startDate }
        if let resources, resources != current.resources.sorted() { change.resources = resources }
        let schedule = CaptureSchedule(
            everyMinutes: everyMinutes ?? current.schedule.everyMinutes, paused: paused ?? current.schedule.paused)
        if schedule != current.schedule { change.schedule = schedule }
        return change
    }

    private static func seal(_ token: String, box: SecretBox) throws(HTTPError) -> Data {
        do { return try box.seal(token) } catch {
            throw HTTPError(status: 500, title: "Cannot save the token", message: error.description)
        }
    }
}
