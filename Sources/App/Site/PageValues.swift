import Foundation

// Small values the page models of several features share.

/// A state as a badge: `<span class="badge {{style}}">{{label}}</span>`.
struct Badge: Sendable {
    /// The CSS class (`badge-ok`, `badge-warn`, …).
    let style: String
    let label: String
}

/// A moment as the capture side's pages show it: RFC 3339 for `<time datetime>` and the hover,
/// and how long ago it was when the page was made.
struct Stamp: Sendable {
    /// `2024-11-15T10:00:00Z`
    let iso: String
    /// `3 min ago`
    let ago: String

    init(_ date: Date, now: Date) {
        iso = Format.rfc3339(date) ?? ""
        ago = Format.ago(date, now: now)
    }
}
