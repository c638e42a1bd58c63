import Foundation

/// What to list from Front, as a value. The capture names what it wants; only this file knows
/// Front's paths, filters, sort orders and page sizes, so a state machine can be tested by
/// comparing requests without building a URL.
public enum FrontRequest: Sendable, Hashable {
    /// A whole list, 100 a page.
    case list(FrontList)
    /// Contacts updated strictly after `updatedAfter` (milliseconds), oldest first.
    case contacts(updatedAfter: Int64)
    /// Events emitted strictly after `after` (milliseconds), oldest first, 15 a page (Front's most).
    case events(after: Int64)
    /// Conversations with a message or comment in `after…before` (milliseconds, both inclusive),
    /// newest activity first, with `_total`.
    case conversationSearch(after: Int64, before: Int64)
    /// The page after one already read: its `_pagination.next`, resolved by `FrontPager`'s rules
    /// (it already carries the filters, the limit and the page token).
    case next(URL)

    /// The path and query of a first page; nil for `next`, which is a whole URL already.
    public var route: (path: String, query: [(String, String)])? {
        switch self {
        case .list(let list):
            return ("/\(list.rawValue)", [("limit", "100")])
        case .contacts(let after):
            return (
                "/contacts",
                [
                    ("q[updated_after]", Self.seconds(after)), ("sort_by", "updated_at"), ("sort_order", "asc"),
                    ("limit", "100"),
                ]
            )
        case .events(let after):
            return (
                "/events",
                [("q[after]", Self.seconds(after)), ("sort_by", "created_at"), ("sort_order", "asc"), ("limit", "15")]
            )
        case .conversationSearch(let after, let before):
            return ("/conversations/search/after:\(Self.seconds(after)) before:\(Self.seconds(before))", [("limit", "100")])
        case .next:
            return nil
        }
    }

    /// Milliseconds as Front's filters take time: seconds with exactly three decimals.
    public static func seconds(_ millis: Int64) -> String {
        let sign = millis < 0 ? "-" : ""
        let value = millis.magnitude
        let fraction = String(value % 1000)
        return "\(sign)\(value / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// The request for the page after `page`, read from `url`; nil when that was the last.
    /// A `next` that is no URL, or the page just read again, is an error of the answer.
    public static func following(_ page: FrontPage, readFrom url: URL, baseURL: URL) throws(FrontError) -> FrontRequest? {
        var pager = FrontPager(first: url, baseURL: baseURL)
        return try pager.advance(next: page.next).map(FrontRequest.next)
    }
}

/// The lists read whole on every run (Front has no "changed since" filter on them).
public enum FrontList: String, Sendable, Hashable, CaseIterable {
    case channels, inboxes, tags, teammates, teams
}

extension FrontClient {
    /// The URL the client sends for `request`.
    public func url(for request: FrontRequest) -> URL {
        switch request {
        case .next(let url): url
        default: request.route.map { url($0.path, $0.query) } ?? baseURL
        }
    }

    /// One page of `request`, with the request for the page after it in `nextRequest`.
    /// `requests` counts every HTTP attempt made, retries included.
    public func page(_ request: FrontRequest) async throws(FrontError) -> (page: FrontPage, requests: Int) {
        let url = self.url(for: request)
        var (page, requests) = try await self.page(url)
        page.nextRequest = try FrontRequest.following(page, readFrom: url, baseURL: baseURL)
        return (page, requests)
    }
}
