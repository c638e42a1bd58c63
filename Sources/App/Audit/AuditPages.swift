import Foundation
import Model
import Web

/// One audit entry as the pages show it: when, who (a link to their entries), the action in
/// words, the object (a link to its page, and one to its entries), the detail and the outcome.
/// No optionals: a missing value would be looked up in the enclosing context.
struct AuditRow: Sendable {
    let when: Stamp
    let actor: String
    /// `/audit?actor=…`
    let actorHref: String
    let action: String
    /// `capture.created`
    let actionCode: String
    let object: String
    /// The object's own page, or "" (and `linked` false).
    let objectHref: String
    let linked: Bool
    /// `/audit?object=…`
    let objectEntriesHref: String
    let detail: String
    let failed: Bool
    /// "done", or the error in words.
    let outcome: String

    init(_ entry: AuditEntry, now: Date) {
        when = Stamp(entry.at, now: now)
        actor = entry.actor
        actorHref = AuditQuery(actor: entry.actor).link("/audit", page: 1)
        action = entry.action.words
        actionCode = entry.action.rawValue
        object = entry.object
        let href = AuditQuery.href(of: entry.object)
        objectHref = href ?? ""
        linked = href != nil
        objectEntriesHref = AuditQuery(object: entry.object).link("/audit", page: 1)
        detail = entry.detail ?? ""
        failed = entry.error != nil
        outcome = entry.error ?? "done"
    }
}

/// `/audit`: who did what, newest first, filtered by object, person and action, 50 a page.
struct AuditPage: Sendable {
    /// An `<option>` of the action filter.
    struct Option: Sendable {
        let value: String
        let label: String
        let selected: Bool
    }

    /// The filters as typed, for the form.
    let object: String
    let actor: String
    let actions: [Option]
    let filtered: Bool
    let entries: [AuditRow]
    let hasEntries: Bool
    let page: Int
    /// The previous and next pages' links, or "" (with `hasPrevious` / `hasNext` false).
    let previous: String
    let hasPrevious: Bool
    let next: String
    let hasNext: Bool

    /// `entries`: as the store answered `query.filter` (up to one more than a page).
    init(query: AuditQuery, entries: [AuditEntry], now: Date) {
        object = query.object ?? ""
        actor = query.actor ?? ""
        actions =
            [Option(value: "", label: "any action", selected: query.action == nil)]
            + AuditAction.allCases.map { action in
                Option(value: action.rawValue, label: action.words, selected: action == query.action)
            }
        filtered = query.isFiltered
        self.entries = entries.prefix(AuditQuery.perPage).map { AuditRow($0, now: now) }
        hasEntries = !entries.isEmpty
        page = query.page
        hasPrevious = query.page > 1
        previous = hasPrevious ? query.link("/audit", page: query.page - 1) : ""
        hasNext = entries.count > AuditQuery.perPage
        next = hasNext ? query.link("/audit", page: query.page + 1) : ""
    }
}

/// An object's latest entries on its own page (a capture's), with the link to all of them.
struct AuditExcerpt: Sendable {
    /// Entries shown on an object's page.
    static let limit = 10

    let entries: [AuditRow]
    let hasEntries: Bool
    /// `/audit?object=capture%3A3`
    let allHref: String

    init(object: String, entries: [AuditEntry], now: Date) {
        self.entries = entries.prefix(Self.limit).map { AuditRow($0, now: now) }
        hasEntries = !entries.isEmpty
        allHref = AuditQuery(object: object).link("/audit", page: 1)
    }
}
