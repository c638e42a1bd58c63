import Capture
import Foundation
import Web

/// The new-capture form: its fields as typed, and the rules they must meet.
struct CaptureForm {
    var name: String
    var token: String
    var startText: String
    var resources: Set<String>
    private(set) var startDate: Date?

    static let blank = CaptureForm(name: "", token: "", startText: "", resources: Set(FrontResource.allCases.map(\.rawValue)))

    init(name: String, token: String, startText: String, resources: Set<String>) {
        self.name = name
        self.token = token
        self.startText = startText
        self.resources = resources
    }

    init(_ form: Parameters) {
        self.init(
            name: (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            token: (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            startText: (form["start_date"] ?? "").trimmingCharacters(in: .whitespaces),
            resources: Set(form.all("resources")))
    }

    /// The collections' prefix: the name in lower case, runs of other characters as `-`.
    var prefix: String {
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

    /// What is wrong with each field, in words; nothing when the form can be saved.
    struct Problems: Sendable {
        var name: String?
        var token: String?
        var startDate: String?
        var resources: String?

        var isEmpty: Bool { name == nil && token == nil && startDate == nil && resources == nil }
    }

    /// Checks every field (and reads the start date, when one is given).
    mutating func validate() -> Problems {
        var problems = Problems()
        if name.isEmpty {
            problems.name = "Give the capture a name, such as your Front company's."
        } else if name.count > 100 {
            problems.name = "Keep the name to 100 characters or fewer."
        } else if prefix.isEmpty {
            problems.name = "Use at least one letter or digit in the name: it names the collections."
        }
        if token.isEmpty {
            problems.token = "Paste a Front API token (Front → Settings → Developers → API tokens)."
        } else if token.count < 8 || token.contains(where: \.isWhitespace) {
            problems.token = "This does not look like a Front API token: it should be one long word with no spaces."
        }
        if !startText.isEmpty {
            if let date = Self.parseStart(startText) {
                startDate = date
            } else {
                problems.startDate =
                    "Write the start date as YYYY-MM-DDTHH:MM:SSZ (UTC), such as 2024-11-15T00:00:00Z, or leave it empty."
            }
        }
        let known = Set(FrontResource.allCases.map(\.rawValue))
        if resources.isEmpty {
            problems.resources = "Tick at least one resource to copy."
        } else if !resources.isSubset(of: known) {
            problems.resources = "Unknown resource: \(resources.subtracting(known).sorted().joined(separator: ", "))."
        }
        return problems
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
