import Foundation
import Model

/// A capture's recent runs as a small SVG chart, drawn here from the job table so the page
/// needs no JavaScript: per run, oldest on the left, a bar of the documents written and a bar
/// of the requests spent (each on its own scale, its maximum in the legend), and the run's
/// duration as dots joined by a line. Each bar and dot has a `<title>` for the hover.
///
/// A pure value: runs in, SVG text out. Every number written is finite and bounded (no NaN
/// with 0 or 1 runs, or with runs that took no time), and every text is XML-escaped.
struct HistoryChart: Sendable {
    /// The most runs drawn.
    static let limit = 100

    /// One run as the chart draws it.
    struct Run: Sendable, Equatable {
        let id: Int64
        let state: String
        let created: Date
        let documents: Int
        let requests: Int
        let seconds: Int
    }

    /// Oldest first, at most `limit`.
    let runs: [Run]
    let captureName: String

    // The drawing's frame, in SVG units (the SVG scales to the page's width).
    static let width = 640.0
    static let height = 190.0
    static let left = 10.0
    static let right = 630.0
    static let top = 10.0
    static let baseline = 150.0

    init(runs: [Run], captureName: String) {
        self.runs = Array(runs.suffix(Self.limit))
        self.captureName = captureName
    }

    /// `jobs` newest first, as the store lists them.
    init(jobs: [JobRecord], captureName: String, now: Date) {
        let runs = jobs.prefix(Self.limit).reversed().map { job in
            Run(
                id: job.id, state: job.life.state.rawValue, created: job.life.createdAt,
                documents: job.bindings.reduce(0) { saturatingAdd($0, $1.documents) },
                requests: job.bindings.reduce(0) { saturatingAdd($0, $1.requests) },
                seconds: max(0, job.life.elapsedSeconds(at: now) ?? 0))
        }
        self.init(runs: runs, captureName: captureName)
    }

    var svg: String {
        let mostDocuments = runs.map(\.documents).max() ?? 0
        let mostRequests = runs.map(\.requests).max() ?? 0
        let longest = runs.map(\.seconds).max() ?? 0
        let label =
            runs.isEmpty
            ? "\(captureName) has no runs yet."
            : "The last \(runs.count) run\(runs.count == 1 ? "" : "s") of \(captureName): at most \(mostDocuments) documents "
                + "and \(mostRequests) requests in a run; the longest took \(Format.duration(longest))."
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" class="history-chart" viewBox="0 0 \(Self.number(Self.width)) \(Self.number(Self.height))" \
            width="100%" role="img" aria-label="\(Self.escape(label))">
            <line class="axis" x1="\(Self.number(Self.left))" y1="\(Self.number(Self.baseline))" \
            x2="\(Self.number(Self.right))" y2="\(Self.number(Self.baseline))" stroke="#c9d1e3" stroke-width="1"/>

            """
        if runs.isEmpty {
            out += """
                <text x="\(Self.number(Self.width / 2))" y="\(Self.number(Self.baseline / 2))" text-anchor="middle" \
                fill="#6b7488" font-size="14">No runs yet</text>

                """
        } else {
            out += bars(mostDocuments: mostDocuments, mostRequests: mostRequests)
            out += durations(longest: longest)
        }
        out += legend(mostDocuments: mostDocuments, mostRequests: mostRequests, longest: longest)
        out += "</svg>"
        return out
    }

    // MARK: Parts

    private var slot: Double { (Self.right - Self.left) / Double(max(runs.count, 1)) }

    private func bars(mostDocuments: Int, mostRequests: Int) -> String {
        let gap = slot * 0.1
        let barWidth = max(0.5, (slot - 3 * gap) / 2)
        var out = ""
        for (index, run) in runs.enumerated() {
            let x = Self.left + Double(index) * slot + gap
            let about = "Job #\(run.id), \(run.state), \(Format.rfc3339(run.created) ?? "")"
            let faded = run.state == "succeeded" || run.state == "running" ? "" : " fill-opacity=\"0.45\""
            for (offset, value, most, kind, fill) in [
                (0.0, run.documents, mostDocuments, "documents", "#3b6fd8"),
                (barWidth + gap, run.requests, mostRequests, "requests", "#e0a030"),
            ] {
                let height = max(0.5, Self.scaled(value, most))
                out += """
                    <rect class="bar bar-\(kind)" x="\(Self.number(x + offset))" y="\(Self.number(Self.baseline - height))" \
                    width="\(Self.number(barWidth))" height="\(Self.number(height))" fill="\(fill)"\(faded)>\
                    <title>\(Self.escape("\(about): \(value) \(kind)"))</title></rect>

                    """
            }
        }
        return out
    }

    private func durations(longest: Int) -> String {
        let points = runs.enumerated().map { index, run in
            (x: Self.left + (Double(index) + 0.5) * slot, y: Self.baseline - Self.scaled(run.seconds, longest), run: run)
        }
        var out = ""
        if points.count >= 2 {
            let path = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
            out += """
                <polyline class="duration-line" points="\(path)" fill="none" stroke="#2a9d6f" stroke-width="1.5"/>

                """
        }
        for point in points {
            out += """
                <circle class="duration" cx="\(Self.number(point.x))" cy="\(Self.number(point.y))" r="2.5" fill="#2a9d6f">\
                <title>\(Self.escape("Job #\(point.run.id) took \(Format.duration(point.run.seconds))"))</title></circle>

                """
        }
        return out
    }

    private func legend(mostDocuments: Int, mostRequests: Int, longest: Int) -> String {
        let y = Self.baseline + 22
        let items = [
            ("#3b6fd8", "documents (most \(mostDocuments))"), ("#e0a030", "requests (most \(mostRequests))"),
            ("#2a9d6f", "duration (longest \(Format.duration(longest)))"),
        ]
        var out = ""
        for (index, (fill, text)) in items.enumerated() {
            let x = Self.left + Double(index) * 210
            out += """
                <rect class="legend" x="\(Self.number(x))" y="\(Self.number(y - 9))" width="10" height="10" fill="\(fill)"/>\
                <text x="\(Self.number(x + 15))" y="\(Self.number(y))" fill="#3d4557" font-size="12">\(Self.escape(text))</text>

                """
        }
        return out
    }

    // MARK: Numbers and text

    /// `value` of `most` as a height of the plot, 0 when `most` is 0.
    static func scaled(_ value: Int, _ most: Int) -> Double {
        guard most > 0 else { return 0 }
        let fraction = Double(max(0, value)) / Double(most)
        return (baseline - top) * min(1, max(0, fraction))
    }

    /// One decimal, always finite and within the drawing's reach.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        return String(format: "%.1f", min(10_000, max(-10_000, value)))
    }

    /// Text for an XML text node or attribute; characters XML cannot carry (controls) are dropped.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r", "\u{20}"..."\u{D7FF}", "\u{E000}"..."\u{FFFD}", "\u{10000}"...:
                out.unicodeScalars.append(scalar)
            default: continue
            }
        }
        return out
    }
}

/// `a + b`, stopping at `Int.max` rather than trapping.
private func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(max(0, b))
    return overflow ? .max : sum
}
