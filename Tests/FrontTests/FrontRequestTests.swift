import Foundation
import SwitchboardTesting
import Testing
import Transport

@testable import Front

/// The only place Front's paths, filters, sorts and page sizes are spelled.
@Suite struct FrontRequestTests {
    let front = FrontClient(token: FrontToken("t")!, baseURL: URL(string: "https://api2.frontapp.com")!)

    @Test(arguments: [
        (FrontRequest.list(.tags), "https://api2.frontapp.com/tags?limit=100"),
        (
            .contacts(updatedAfter: 1_731_628_799_999),
            "https://api2.frontapp.com/contacts?q%5Bupdated_after%5D=1731628799.999&sort_by=updated_at&sort_order=asc&limit=100"
        ),
        (
            .events(after: 5),
            "https://api2.frontapp.com/events?q%5Bafter%5D=0.005&sort_by=created_at&sort_order=asc&limit=15"
        ),
        (
            .conversationSearch(after: 1_000, before: 4_999),
            "https://api2.frontapp.com/conversations/search/after:1.000%20before:4.999?limit=100"
        ),
        (
            .next(URL(string: "https://acme.api.frontapp.com/tags?page_token=x")!),
            "https://acme.api.frontapp.com/tags?page_token=x"
        ),
    ])
    func eachRequestHasItsURL(request: FrontRequest, url: String) {
        #expect(front.url(for: request).absoluteString == url)
    }

    @Test func secondsHaveExactlyThreeDecimals() {
        #expect(FrontRequest.seconds(1_731_628_800_000) == "1731628800.000")
        #expect(FrontRequest.seconds(-1) == "-0.001")
    }

    @Test func aPageCarriesTheRequestForTheNextOneMovedOntoOurHostWhenForeign() async throws {
        let transport = ScriptedTransport([
            .json(#"{"_pagination":{"next":"https://elsewhere.test/tags?page_token=2"},"_links":{"self":"x"},"_results":[]}"#),
            .json(#"{"_pagination":{"next":null},"_links":{"self":"x"},"_results":[]}"#),
        ])
        let client = FrontClient(
            token: FrontToken("t")!, baseURL: URL(string: "http://127.0.0.1:9")!, transport: transport,
            clock: FrontClock(now: { 0 }, sleep: { _ in }))
        let first = try await client.page(FrontRequest.list(.tags)).page
        #expect(first.nextRequest == .next(URL(string: "http://127.0.0.1:9/tags?page_token=2")!))
        let last = try await client.page(try #require(first.nextRequest)).page
        #expect(last.nextRequest == nil)
        #expect(
            transport.requests.map(\.url.absoluteString) == [
                "http://127.0.0.1:9/tags?limit=100", "http://127.0.0.1:9/tags?page_token=2",
            ])
    }
}
