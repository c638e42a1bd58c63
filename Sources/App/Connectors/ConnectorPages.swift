import Fivetran
import Foundation
import Mustache
import Web

/// The query of `/connectors`: sorting, the state filter, the search text, and the connector
/// just set up (from the Connect Card's return), each checked against what the page offers.
struct ConnectorListQuery: Sendable {
    enum Column: String, CaseIterable, Sendable {
        case name, service, schema, created, succeeded, state
    }

    var sort: Column
    var descending: Bool
    var state: String
    var text: String
    var setup: String?
    /// The schema of the connector just deleted (from the delete form's answer).
    var deleted: String?

    init(_ query: Parameters) {
        sort = Column(rawValue: query["sort"] ?? "") ?? .created
        descending = (query["dir"] ?? (Self.newestFirst(sort) ? "desc" : "asc")) == "desc"
        let state = query["state"] ?? ""
        self.state = ["connected", "incomplete", "broken"].contains(state) ? state : ""
        text = (query["q"] ?? "").trimmingCharacters(in: .whitespaces)
        setup = query["setup"]
        deleted = query["deleted"].flatMap { $0.isEmpty ? nil : String($0.prefix(300)) }
    }

    /// Dates sort newest first unless asked otherwise.
    static func newestFirst(_ column: Column) -> Bool { column == .created || column == .succeeded }

    /// Identifies the rendered content: two queries with equal keys render the same bytes.
    var key: String { "\(sort)|\(descending)|\(state)|\(text)|\(setup ?? "")|\(deleted ?? "")" }
}

/// Fivetran's states as badges.
extension Badge {
    static func setup(_ state: String) -> Badge {
        switch state {
        case "connected": Badge(style: "badge-ok", label: "Connected")
        case "incomplete": Badge(style: "badge-warn", label: "Setup incomplete")
        case "broken": Badge(style: "badge-bad", label: "Broken")
        default: Badge(style: "", label: state)
        }
    }

    static func sync(_ state: String) -> Badge {
        switch state {
        case "syncing": Badge(style: "badge-info", label: "Syncing")
        case "scheduled": Badge(style: "", label: "Scheduled")
        case "paused": Badge(style: "badge-warn", label: "Paused")
        case "rescheduled": Badge(style: "badge-warn", label: "Rescheduled")
        default: Badge(style: "", label: state)
        }
    }
}

/// A point in time as the pages show it: the day, with the minute on hover.
struct Moment: Sendable {
    /// `2026-03-02`
    let day: String
    /// For `<time datetime>`.
    let iso: String
    /// `2026-03-02 14:05 UTC`
    let full: String

    init?(_ date: Date?) {
        guard let date else { return nil }
        let text = date.formatted(.iso8601)
        iso = text
        day = String(text.prefix(10))
        full = text.prefix(10) + " " + text.dropFirst(11).prefix(5) + " UTC"
    }
}

/// `/connectors`: the group's connections as a table, filtered and sorted by the query.
/// Built from data only (no visitor), so its rendered bytes are kept per data version.
struct ConnectorListPage: Sendable {
    struct Row: Sendable {
        let name: String
        let serviceName: String
        let icon: String?
        let schema: String
        let setup: Badge
        let sync: Badge
        /// Paused, when the sync badge does not already say so.
        let paused: Bool
        let setupURL: String
        let detailURL: String
        let created: Moment?
        let succeeded: Moment?
        let needsSetup: Bool
    }

    struct SortLink: Sendable {
        let href: String
        /// ` ↑` or ` ↓` on the column the table is sorted by.
        let mark: String
    }

    struct SortLinks: Sendable {
        let name, service, schema, created, succeeded, state: SortLink
    }

    struct StateFilter: Sendable {
        let all, connected, incomplete, broken: Bool
    }

    let rows: [Row]
    /// The group has connectors at all.
    let any: Bool
    let noneMatch: Bool
    let total: Int
    let shown: Int
    let connected: Int
    let incomplete: Int
    let broken: Int
    let q: String
    let fetchedAt: String
    let state: StateFilter
    let sortLinks: SortLinks
    /// Why the list may be old.
    let stale: String?
    let noticeOK: String?
    let noticeWarn: String?
    let noticeContinue: String?

    init(catalog: Catalog, connections: Refreshed<[ConnectorRow]>.Snapshot, catalogError: (any Error)?, query: ConnectorListQuery)
    {
        let all = connections.value
        let needle = query.text.lowercased()
        let serviceName = { (row: ConnectorRow) in catalog.byID[row.connection.service]?.name ?? row.connection.service }
        var matching = all.filter { row in
            (query.state.isEmpty || row.connection.status.setupState == query.state)
                && (needle.isEmpty || row.name.lowercased().contains(needle)
                    || row.connection.schema.lowercased().contains(needle)
                    || row.connection.service.lowercased().contains(needle)
                    || (catalog.byID[row.connection.service]?.name.lowercased().contains(needle) ?? false))
        }
        matching.sort { a, b in
            let ordered: Bool
            switch query.sort {
            case .name: ordered = a.name.localizedCaseInsensitiveCompare(b.name) == .orderedAscending
            case .service: ordered = serviceName(a).localizedCaseInsensitiveCompare(serviceName(b)) == .orderedAscending
            case .schema: ordered = a.connection.schema < b.connection.schema
            case .succeeded: ordered = (a.connection.succeededAt ?? .distantPast) < (b.connection.succeededAt ?? .distantPast)
            case .state: ordered = a.connection.status.setupState < b.connection.status.setupState
            case .created: ordered = (a.connection.createdAt ?? .distantPast) < (b.connection.createdAt ?? .distantPast)
            }
            return query.descending ? !ordered : ordered
        }
        rows = matching.map { row in
            let connection = row.connection
            return Row(
                name: row.name, serviceName: serviceName(row), icon: Format.https(catalog.byID[connection.service]?.iconURL),
                schema: connection.schema, setup: .setup(connection.status.setupState), sync: .sync(connection.status.syncState),
                paused: connection.paused && connection.status.syncState != "paused",
                setupURL: "/connectors/\(percentEncode(connection.id))/setup",
                detailURL: "/connectors/\(percentEncode(connection.id))",
                created: Moment(connection.createdAt), succeeded: Moment(connection.succeededAt),
                needsSetup: !connection.status.isConnected)
        }
        any = !all.isEmpty
        noneMatch = !all.isEmpty && matching.isEmpty
        total = all.count
        shown = matching.count
        connected = all.count { $0.connection.status.setupState == "connected" }
        incomplete = all.count { $0.connection.status.setupState == "incomplete" }
        broken = all.count { $0.connection.status.setupState == "broken" }
        q = query.text
        fetchedAt = clock(connections.fetchedAt)
        state = StateFilter(
            all: query.state.isEmpty, connected: query.state == "connected", incomplete: query.state == "incomplete",
            broken: query.state == "broken")
        func link(_ column: ConnectorListQuery.Column) -> SortLink {
            let descending = column == query.sort ? !query.descending : ConnectorListQuery.newestFirst(column)
            var parts = ["sort=\(column.rawValue)", "dir=\(descending ? "desc" : "asc")"]
            if !query.state.isEmpty { parts.append("state=\(query.state)") }
            if !query.text.isEmpty { parts.append("q=\(percentEncode(query.text))") }
            return SortLink(
                href: "/connectors?" + parts.joined(separator: "&"),
                mark: column == query.sort ? (query.descending ? " ↓" : " ↑") : "")
        }
        sortLinks = SortLinks(
            name: link(.name), service: link(.service), schema: link(.schema), created: link(.created),
            succeeded: link(.succeeded), state: link(.state))
        stale = (connections.refreshError ?? catalogError).map { error in
            "Could not refresh from Fivetran (\(describe(error))). Showing what was fetched at \(clock(connections.fetchedAt))."
        }
        var ok: String?
        var warn: String?
        var next: String?
        if let id = query.setup {
            if let row = all.first(where: { $0.connection.id == id }) {
                if row.connection.status.isConnected {
                    ok = "“\(row.name)” is set up: Fivetran will sync it on its schedule."
                } else {
                    warn = "Setup of “\(row.name)” is not finished yet."
                    next = "/connectors/\(percentEncode(id))/setup"
                }
            } else {
                warn = "Fivetran does not list the connector \(id) in this group."
            }
        }
        if let schema = query.deleted {
            ok = "The connector with the schema “\(schema)” was deleted from Fivetran."
        }
        noticeOK = ok
        noticeWarn = warn
        noticeContinue = next
    }
}

/// `/services`: the catalog as tiles, searched and filtered by category. Data only, kept
/// rendered per catalog version like the connector list.
struct CatalogPage: Sendable {
    struct Tile: Sendable {
        let id: String
        let name: String
        let category: String
        let description: String?
        let icon: String?
        let docs: String?
        /// Beta, preview…: anything but general availability.
        let status: String?
        let newURL: String
    }

    struct Category: Sendable {
        let name: String
        let selected: Bool
    }

    let types: [Tile]
    let shown: Int
    let total: Int
    let q: String
    let noneMatch: Bool
    let categories: [Category]

    init(catalog: Catalog, text: String, category: String) {
        let needle = text.lowercased()
        let matching = catalog.types.filter { type in
            (category.isEmpty || type.type == category)
                && (needle.isEmpty || type.name.lowercased().contains(needle) || type.id.contains(needle)
                    || (type.description?.lowercased().contains(needle) ?? false))
        }
        types = matching.map { type in
            Tile(
                id: type.id, name: type.name, category: type.type ?? "",
                description: type.description.map { $0.count > 180 ? String($0.prefix(177)) + "…" : $0 },
                icon: Format.https(type.iconURL), docs: Format.https(type.linkToDocs),
                status: type.serviceStatus.flatMap {
                    $0 == "general_availability" ? nil : $0.replacingOccurrences(of: "_", with: " ")
                },
                newURL: "/connectors/new?service=\(percentEncode(type.id))")
        }
        shown = matching.count
        total = catalog.types.count
        q = text
        noneMatch = matching.isEmpty
        categories = catalog.categories.map { Category(name: $0, selected: $0 == category) }
    }
}

/// `/connectors/new` and the form sent back with what was wrong: the connector type, what was
/// typed, and an error per field.
struct NewConnectorPage: Sendable {
    let service: String
    let serviceName: String
    let serviceDescription: String?
    let serviceIcon: String?
    let serviceDocs: String?
    let serviceCategory: String?
    let schemaFormat: String
    var displayName: String
    var schema: String
    var displayNameError: String?
    var schemaError: String?
    /// Fivetran's refusal, in words.
    var error: String?

    init(type: ConnectorType, displayName: String, schema: String) {
        service = type.id
        serviceName = type.name
        serviceDescription = type.description
        serviceIcon = Format.https(type.iconURL)
        serviceDocs = Format.https(type.linkToDocs)
        serviceCategory = type.type
        schemaFormat = Self.hint(SchemaFormats.bundled[type.id])
        self.displayName = displayName
        self.schema = schema
    }

    var invalid: Bool { displayNameError != nil || schemaError != nil }

    private static func hint(_ format: SchemaFormat?) -> String {
        switch format {
        case .schemaTable?: "Fivetran writes this connector into one table; the table takes the schema's name."
        case .schemaPrefix?: "Fivetran writes one schema per source schema, each starting with this name."
        case .schemaTableGroup?: "Fivetran writes this connector's tables into this schema, grouped under this name."
        default: "Fivetran writes this connector's tables into this schema."
        }
    }
}

/// `14:05 UTC`
func clock(_ date: Date) -> String { String(date.formatted(.iso8601).dropFirst(11).prefix(5)) + " UTC" }

func describe(_ error: any Error) -> String {
    (error as? FivetranError)?.description ?? String(describing: error)
}

// MARK: Fast lookups for the types rendered once per row

// swift-mustache reads a struct through `Mirror`, a few microseconds a lookup; a table of 1,200
// rows makes ~30,000 of them. These types answer by name instead (AppTests checks every property
// is answered, so a property added without its case cannot silently render as nothing).

extension ConnectorListPage.Row: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": self.name
        case "serviceName": self.serviceName
        case "icon": self.icon
        case "schema": self.schema
        case "setup": self.setup
        case "sync": self.sync
        case "paused": self.paused
        case "setupURL": self.setupURL
        case "detailURL": self.detailURL
        case "created": self.created
        case "succeeded": self.succeeded
        case "needsSetup": self.needsSetup
        default: nil
        }
    }
}

extension Badge: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "style": self.style
        case "label": self.label
        default: nil
        }
    }
}

extension Moment: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "day": self.day
        case "iso": self.iso
        case "full": self.full
        default: nil
        }
    }
}
