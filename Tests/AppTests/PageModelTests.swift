import Foundation
import Mustache
import Testing
import Web

@testable import App

@Suite("Page models")
struct PageModelTests {
    /// The stored properties of `value` that its own lookup does not answer with their value.
    func unanswered(_ value: some MustacheParent) -> [String] {
        Mirror(reflecting: value).children.compactMap { child in
            guard let label = child.label else { return nil }
            let answered = value.child(named: label).map { String(describing: $0) }
            return answered == unwrapped(child.value) ? nil : label
        }
    }

    /// `String(describing:)` of what an Optional holds (nil for none), or of the value itself.
    func unwrapped(_ value: Any) -> String? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return String(describing: value) }
        return mirror.children.first.map { String(describing: $0.value) }
    }

    @Test("the row types that answer lookups by name answer every property they have")
    func fastLookupsAreComplete() {
        let moment = Moment(Date(timeIntervalSince1970: 1_700_000_000))!
        let row = ConnectorListPage.Row(
            name: "Sales", serviceName: "Salesforce", icon: "https://example.com/i.svg", schema: "sales",
            setup: .setup("connected"), sync: .sync("syncing"), paused: false, setupURL: "/connectors/x/setup",
            detailURL: "/connectors/x",
            created: moment, succeeded: moment, needsSetup: false)
        #expect(unanswered(row) == [])
        #expect(unanswered(Badge.setup("broken")) == [])
        #expect(unanswered(moment) == [])
    }

    @Test("a moment shows the day, the minute in UTC and the ISO time")
    func moment() throws {
        let moment = try #require(Moment(Date(timeIntervalSince1970: 1_700_000_000)))
        #expect(moment.day == "2023-11-14")
        #expect(moment.full == "2023-11-14 22:13 UTC")
        #expect(moment.iso == "2023-11-14T22:13:20Z")
        #expect(Moment(nil) == nil)
    }

    @Test("the list query keeps only the sorts and states the page offers")
    func listQuery() throws {
        let query = ConnectorListQuery(try .decode("sort=bogus&state=weird&q=%20sales%20"))
        #expect(query.sort == .created)
        #expect(query.descending)
        #expect(query.state == "")
        #expect(query.text == "sales")
        #expect(ConnectorListQuery(try .decode("sort=name")).descending == false)
    }
}

@Suite("The settings page, in process")
struct SettingsPageTests {
    @Test("environment tokens are mentioned only when there are some")
    func environmentTokens() async throws {
        try await withApp { app in
            #expect(await app.get("/settings").text.contains("1 more come from"))
        }
        try await withApp(environment: ["SWITCHBOARD_API_TOKENS": ""]) { app in
            let page = await app.get("/settings")
            #expect(page.status == 200)
            #expect(!page.text.contains("more come from"))
        }
    }
}
