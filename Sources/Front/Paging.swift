import Foundation

/// One Front list page: the documents exactly as sent, where to go next, and the search total.
public struct FrontPage: Sendable {
    public var results: [FrontDocument]
    /// `_pagination.next` as sent; nil (or absent) on the last page.
    public var next: String?
    /// `_total`, on search answers.
    public var total: Int?
    /// `next` resolved into the request for the following page, when the page was read through
    /// `FrontClient.page(_: FrontRequest)`; nil on the last page.
    public var nextRequest: FrontRequest?

    public init(results: [FrontDocument], next: String? = nil, total: Int? = nil, nextRequest: FrontRequest? = nil) {
        self.results = results
        self.next = next
        self.total = total
        self.nextRequest = nextRequest
    }

    /// Reads a list answer. Anything that is not a Front list envelope is `FrontError.malformed`
    /// naming `route`; a document without a string `id` too.
    public static func parse(_ body: Data, route: String) throws(FrontError) -> FrontPage {
        let scanner = JSONScanner(body)
        do {
            var page = FrontPage(results: [])
            var sawResults = false
            for member in try scanner.objectMembers() {
                switch member.name {
                case "_results":
                    sawResults = true
                    page.results = try scanner.arrayElements(in: member.range).map { range throws(FrontError) in
                        try FrontDocument.parse(scanner: scanner, range: range, route: route, embedding: true)
                    }
                case "_pagination":
                    let pagination = try JSONDecoder().decode(Pagination.self, from: scanner.slice(member.range))
                    page.next = pagination.next.flatMap { $0.isEmpty ? nil : $0 }
                case "_total":
                    page.total = try JSONDecoder().decode(Int?.self, from: scanner.slice(member.range))
                default:
                    continue
                }
            }
            guard sawResults else { throw FrontError.malformed(route: route, detail: "no _results list") }
            return page
        } catch let error as FrontError {
            throw error
        } catch {
            throw FrontError.malformed(route: route, detail: String(describing: error))
        }
    }

    private struct Pagination: Decodable {
        var next: String?
    }
}

/// A document from a list: its raw JSON plus the few fields the capture decides with.
public struct FrontDocument: Sendable, Equatable {
    public var id: String
    /// The bytes Front sent for this document.
    public var json: Data
    public var emittedAt: Double?
    public var updatedAt: Double?
    public var createdAt: Double?
    /// For an event: the full conversation it embeds.
    public var conversation: FrontDocument? {
        get { embedded.first }
        set { embedded = newValue.map { [$0] } ?? [] }
    }
    private var embedded: [FrontDocument] = []

    public init(
        id: String, json: Data, emittedAt: Double? = nil, updatedAt: Double? = nil, createdAt: Double? = nil,
        conversation: FrontDocument? = nil
    ) {
        self.id = id
        self.json = json
        self.emittedAt = emittedAt
        self.updatedAt = updatedAt
        self.createdAt = createdAt
        self.embedded = conversation.map { [$0] } ?? []
    }

    /// Seconds since 1970 that a Front timestamp can be: finite, not before 1970, not past the
    /// year 5138. Anything else is an error of the answer, so later arithmetic cannot overflow.
    public static func isTimestamp(_ seconds: Double) -> Bool {
        seconds.isFinite && seconds >= 0 && seconds <= 1e11
    }

    private struct Fields: Decodable {
        var id: String
        var emitted_at: Double?
        var updated_at: Double?
        var created_at: Double?
    }

    fileprivate static func parse(
        scanner: JSONScanner, range: Range<Int>, route: String, embedding: Bool
    ) throws(FrontError) -> FrontDocument {
        let json = scanner.slice(range)
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: json)
        } catch {
            throw FrontError.malformed(route: route, detail: "a document without a string id or with a bad timestamp: \(error)")
        }
        for (name, value) in [
            ("emitted_at", fields.emitted_at), ("updated_at", fields.updated_at), ("created_at", fields.created_at),
        ] {
            guard let value else { continue }
            guard FrontDocument.isTimestamp(value) else {
                throw FrontError.malformed(
                    route: route, detail: "document \(fields.id.prefix(60)) has \(name) \(value), not a time")
            }
        }
        var document = FrontDocument(
            id: fields.id, json: json, emittedAt: fields.emitted_at, updatedAt: fields.updated_at,
            createdAt: fields.created_at)
        if embedding {
            do {
                if let member = try scanner.objectMembers(in: range).first(where: { $0.name == "conversation" }),
                    scanner.slice(member.range) != Data("null".utf8)
                {
                    document.conversation = try parse(scanner: scanner, range: member.range, route: route, embedding: false)
                }
            } catch let error as FrontError {
                throw error
            } catch {
                throw FrontError.malformed(route: route, detail: String(describing: error))
            }
        }
        return document
    }
}

/// Paging as a value: fed each page's `next`, it answers the next URL to fetch or nil at the end.
///
/// Front's `next` is absolute and already carries `limit`, `page_token` and the filters; it may
/// name the company host (`acme.api.frontapp.com`) while we were configured with `api2`. It is
/// followed as is on Front's own hosts or ours; on any other host only its path and query are
/// kept, moved onto the configured base URL, so the token never goes anywhere else.
public struct FrontPager: Sendable, Equatable {
    public let baseURL: URL
    public private(set) var current: URL
    public private(set) var pages = 0

    public init(first: URL, baseURL: URL) {
        self.baseURL = baseURL
        self.current = first
    }

    /// Moves to the page after the one just read; nil when that was the last.
    public mutating func advance(next: String?) throws(FrontError) -> URL? {
        pages += 1
        guard let next, !next.isEmpty else { return nil }
        guard let resolved = URL(string: next, relativeTo: current)?.absoluteURL,
            let scheme = resolved.scheme?.lowercased(), scheme == "https" || scheme == "http"
        else {
            throw FrontError.malformed(route: current.path, detail: "next page is not a URL: \(next)")
        }
        let url = Self.trusted(resolved, base: baseURL)
        guard url != current else {
            throw FrontError.malformed(route: current.path, detail: "next page is the page just read")
        }
        current = url
        return url
    }

    static func trusted(_ url: URL, base: URL) -> URL {
        let host = url.host?.lowercased() ?? ""
        let baseHost = base.host?.lowercased() ?? ""
        if host == baseHost && url.port == base.port && url.scheme == base.scheme { return url }
        if baseHost.hasSuffix(".frontapp.com") && host.hasSuffix(".frontapp.com") && url.scheme == "https" { return url }
        var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) ?? URLComponents()
        let baseParts = URLComponents(url: base, resolvingAgainstBaseURL: false)
        parts.scheme = baseParts?.scheme
        parts.host = baseParts?.host
        parts.port = baseParts?.port
        return parts.url ?? url
    }
}
