import Foundation
import Model
import Web

/// The audit's filters as `/audit` and `GET /api/audit` take them (`object`, `actor`, `action`,
/// `page`), checked: a value that cannot be one is a 400 that names the parameter, so a typo
/// never reads as "nobody did anything".
struct AuditQuery: Sendable, Equatable {
    /// Entries a page, on `/audit` and in the API.
    static let perPage = 50
    /// Pages past this are refused (400), so the offset stays small.
    static let lastPage = 1_000_000
    /// The kinds of object entries name (`capture:3`).
    static let kinds = ["capture", "connector", "job", "token"]

    var object: String?
    var actor: String?
    var action: AuditAction?
    var page = 1

    init(object: String? = nil, actor: String? = nil, action: AuditAction? = nil, page: Int = 1) {
        self.object = object
        self.actor = actor
        self.action = action
        self.page = page
    }

    init(_ query: Parameters) throws(HTTPError) {
        if let text = Self.given(query["object"]) {
            guard Self.isObject(text) else {
                throw .badRequest(
                    "object must name one thing, such as capture:3, job:9, token:2 or connector:decent_dropsy; "
                        + "got \(text.prefix(80)).")
            }
            object = text
        }
        if let text = Self.given(query["actor"]) {
            guard text.count <= 200 else { throw .badRequest("actor takes a name of up to 200 characters.") }
            actor = text
        }
        if let text = Self.given(query["action"]) {
            guard let action = AuditAction(rawValue: text) else {
                throw .badRequest(
                    "action must be one of \(AuditAction.allCases.map(\.rawValue).joined(separator: ", ")); got \(text.prefix(80))."
                )
            }
            self.action = action
        }
        page = try query.integer("page", in: 1...Self.lastPage, default: 1)
    }

    /// One more than a page, from this page's start: the extra one says whether there is a next.
    var filter: AuditFilter {
        AuditFilter(
            object: object, actor: actor, action: action, limit: Self.perPage + 1, offset: (page - 1) * Self.perPage)
    }

    var isFiltered: Bool { object != nil || actor != nil || action != nil }

    /// The same filters on another page, as a query string (`object=capture%3A3&page=2`); the
    /// first page has no `page`.
    func query(page: Int) -> String {
        var pairs: [(String, String)] = []
        if let object { pairs.append(("object", object)) }
        if let actor { pairs.append(("actor", actor)) }
        if let action { pairs.append(("action", action.rawValue)) }
        if page > 1 { pairs.append(("page", "\(page)")) }
        return pairs.map { "\($0.0)=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    /// `path` with the query for `page` (and no `?` when there is none).
    func link(_ path: String, page: Int) -> String {
        let query = query(page: page)
        return query.isEmpty ? path : path + "?" + query
    }

    private static func given(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// `capture:3`, `job:9`, `token:2` (numbers), `connector:ID` (Fivetran's ids: letters,
    /// digits, `_`, `-`, `.`, up to 100).
    static func isObject(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let kind = String(text[..<colon])
        let id = text[text.index(after: colon)...]
        guard kinds.contains(kind), !id.isEmpty, id.utf8.count <= 100 else { return false }
        if kind == "connector" {
            return id.utf8.allSatisfy { byte in
                (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            }
        }
        return id.utf8.count <= 19 && id.utf8.allSatisfy { (48...57).contains($0) } && Int64(id) != nil
    }

    /// The page of the object an entry names: `capture:3` → `/captures/3`, `job:9` → `/jobs/9`,
    /// `connector:ID` → `/connectors/ID`, `token:2` → `/settings`; nil for anything else.
    static func href(of object: String) -> String? {
        guard isObject(object), let colon = object.firstIndex(of: ":") else { return nil }
        let id = String(object[object.index(after: colon)...])
        switch object[..<colon] {
        case "capture": return "/captures/\(id)"
        case "job": return "/jobs/\(id)"
        case "connector": return "/connectors/\(percentEncode(id))"
        case "token": return "/settings"
        default: return nil
        }
    }
}
