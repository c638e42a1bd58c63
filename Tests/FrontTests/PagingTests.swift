import Foundation
import Testing

@testable import Front

@Suite struct PagingTests {
    let base = URL(string: "https://api2.frontapp.com")!

    @Test func followsNextUntilItIsNull() throws {
        var pager = FrontPager(first: URL(string: "https://api2.frontapp.com/tags?limit=100")!, baseURL: base)
        let second = try pager.advance(next: "https://acme.api.frontapp.com/tags?limit=100&page_token=abc")
        #expect(second?.absoluteString == "https://acme.api.frontapp.com/tags?limit=100&page_token=abc")
        #expect(try pager.advance(next: nil) == nil)
        #expect(pager.pages == 2)
    }

    @Test func aShortPageWithANextIsNotTheEnd() throws {
        let page = try FrontPage.parse(
            Data(
                #"{"_pagination":{"next":"https://api2.frontapp.com/tags?page_token=2"},"_links":{"self":"x"},"_results":[{"id":"tag_1"}]}"#
                    .utf8),
            route: "/tags")
        var pager = FrontPager(first: URL(string: "https://api2.frontapp.com/tags")!, baseURL: base)
        #expect(page.results.count == 1)
        #expect(try pager.advance(next: page.next) != nil)
    }

    @Test func aNextOnAnotherHostIsMovedOntoTheBaseURLSoTheTokenStaysHome() throws {
        let local = URL(string: "http://127.0.0.1:9000")!
        var pager = FrontPager(first: URL(string: "http://127.0.0.1:9000/events?limit=15")!, baseURL: local)
        let next = try pager.advance(next: "https://evil.example.com/events?limit=15&page_token=p2")
        #expect(next?.absoluteString == "http://127.0.0.1:9000/events?limit=15&page_token=p2")
    }

    @Test func theSamePageAgainIsAnErrorNotALoop() {
        let url = "https://api2.frontapp.com/tags?page_token=1"
        var pager = FrontPager(first: URL(string: url)!, baseURL: base)
        #expect(throws: FrontError.self) { try pager.advance(next: url) }
    }

    @Test func documentsAreKeptByteForByte() throws {
        let body =
            #"{"_pagination":{"next":null},"_links":{"self":"x"},"_results":[ {"z":1,"id":"evt_1","emitted_at":1731619498.317,"conversation":{"id":"cnv_1","updated_at":1731619498.3,"subject":"héllo \"q\""}} ],"_total":1}"#
        let page = try FrontPage.parse(Data(body.utf8), route: "/events")
        let event = try #require(page.results.first)
        #expect(String(decoding: event.json, as: UTF8.self).hasPrefix(#"{"z":1,"id":"evt_1","emitted_at":1731619498.317"#))
        #expect(event.emittedAt == 1731619498.317)
        #expect(event.conversation?.id == "cnv_1")
        #expect(
            String(decoding: event.conversation!.json, as: UTF8.self)
                == #"{"id":"cnv_1","updated_at":1731619498.3,"subject":"héllo \"q\""}"#)
        #expect(page.total == 1)
        #expect(page.next == nil)
    }

    @Test(arguments: [
        "<html>502 Bad Gateway</html>", #"{"_results":[{"id":"a"}"#, #"{"_pagination":{"next":null}}"#,
        #"{"_results":[{"name":"no id"}]}"#, #"{"_results":[{"id":"x","updated_at":"yesterday"}]}"#,
    ])
    func malformedAnswersAreErrorsNamingTheRoute(body: String) {
        #expect {
            try FrontPage.parse(Data(body.utf8), route: "/contacts")
        } throws: { error in
            guard case .malformed(let route, _) = error as? FrontError else { return false }
            return route == "/contacts"
        }
    }
}
