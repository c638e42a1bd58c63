import Foundation
import Web

/// How the pages and the JSON write dates, durations and links.
enum Format {
    /// A remote URL fit for an `href` or `src`: https with a host, or nil. Fivetran's data is
    /// not ours: a `javascript:`, `data:` or plain-http URL in it is dropped, never rendered.
    static func https(_ url: URL?) -> String? {
        guard let url, url.scheme?.lowercased() == "https", let host = url.host, !host.isEmpty else { return nil }
        return url.absoluteString
    }

    /// A whole number from a computed `Double` (durations, percentages), saturating instead of
    /// trapping: NaN is 0, and anything past ±10^15 stops there.
    static func whole(_ value: Double) -> Int {
        guard value.isFinite else { return 0 }
        return Int(max(-1e15, min(1e15, value.rounded())))
    }

    /// RFC 3339 UTC, whole seconds: `2024-11-15T10:00:00Z`.
    static func rfc3339(_ date: Date?) -> String? {
        date.map { $0.formatted(.iso8601) }
    }

    /// "3 min ago", "2 h ago", or the date for older ones.
    static func ago(_ date: Date, now: Date) -> String {
        let seconds = whole(now.timeIntervalSince(date))
        if seconds < 5 { return "just now" }
        if seconds < 60 { return "\(seconds) s ago" }
        if seconds < 3600 { return "\(seconds / 60) min ago" }
        if seconds < 86_400 { return "\(seconds / 3600) h ago" }
        return date.formatted(.iso8601.year().month().day())
    }

    /// "in 40 s", "in 3 min", "in 2 h 05 min", or "due now" once it is past.
    static func until(_ date: Date, now: Date) -> String {
        let seconds = whole(date.timeIntervalSince(now))
        if seconds <= 0 { return "due now" }
        if seconds < 60 { return "in \(seconds) s" }
        if seconds < 3600 { return "in \((seconds + 30) / 60) min" }
        let minutes = (seconds + 30) / 60
        return "in \(minutes / 60) h \(String(format: "%02d", minutes % 60)) min"
    }

    /// "1 min 05 s", "12 s".
    static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min \(String(format: "%02d", seconds % 60)) s" }
        return "\(seconds / 3600) h \(String(format: "%02d", seconds % 3600 / 60)) min"
    }

    /// A collection's page: `/collections/acme%2Fchannels` (nginx decodes `%2F`; see CollectionRoutes).
    static func collectionPath(_ name: String) -> String { "/collections/" + percentEncode(name) }
}
