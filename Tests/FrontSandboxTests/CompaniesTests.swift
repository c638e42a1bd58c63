import Foundation
import Sandbox
import Testing

/// Several Front companies in one stand-in: each token belongs to one, each company has its own
/// budget and `/me`, and the stats count each company's requests and 429s.
@Suite("Front sandbox companies")
struct CompaniesTests {
    static let other = "other-company-token"

    @Test("/me answers each token's company; the default token's is cmp_sandbox")
    func meNamesTheCompany() async throws {
        try await withSandbox({ $0.companies = [Self.other: "cmp_other"] }) { _, client in
            let mine = try await client.get("/me")
            #expect(mine.status == 200)
            #expect(mine.object["id"] as? String == "cmp_sandbox")
            #expect((mine.object["name"] as? String)?.isEmpty == false)
            let theirs = try await client.get("/me", token: Self.other)
            #expect(theirs.status == 200)
            #expect(theirs.object["id"] as? String == "cmp_other")
            #expect(theirs.object["name"] as? String != mine.object["name"] as? String)
            // Same seeded data behind every company.
            #expect(try await client.get("/tags", token: Self.other).ids == (try await client.get("/tags")).ids)
            #expect(try await client.get("/me", token: "nobody").status == 401)
        }
    }

    @Test("each company has its own budget: one spent, the other still answers, and the stats say whose 429s")
    func budgetsArePerCompany() async throws {
        try await withSandbox({
            $0.companies = [Self.other: "cmp_other", "second-token-of-other": "cmp_other"]
            $0.rateLimitPerMinute = 5
        }) { _, client in
            for _ in 0..<5 { #expect(try await client.get("/teams").status == 200) }
            let over = try await client.get("/teams")
            #expect(over.status == 429)
            #expect(over.header("x-ratelimit-remaining") == "0")

            // Another company: its own five, whatever the first has spent.
            let first = try await client.get("/teams", token: Self.other)
            #expect(first.status == 200)
            #expect(first.header("x-ratelimit-remaining") == "4")
            // Two tokens of one company share its budget.
            for _ in 0..<2 { #expect(try await client.get("/teams", token: Self.other).status == 200) }
            for _ in 0..<2 { #expect(try await client.get("/teams", token: "second-token-of-other").status == 200) }
            #expect(try await client.get("/teams", token: "second-token-of-other").status == 429)

            let stats = try await client.admin("GET", "/_sandbox/stats").object
            #expect(stats["total"] as? Int == 12)
            #expect(stats["429"] as? Int == 2)
            #expect(stats["cmp_sandbox total"] as? Int == 6)
            #expect(stats["cmp_sandbox 429"] as? Int == 1)
            #expect(stats["cmp_other total"] as? Int == 6)
            #expect(stats["cmp_other 429"] as? Int == 1)

            _ = try await client.admin("POST", "/_sandbox/stats/reset")
            let reset = try await client.admin("GET", "/_sandbox/stats").object
            #expect(reset["cmp_other total"] as? Int == 0 && reset["cmp_sandbox 429"] as? Int == 0)
            _ = try await client.admin("POST", "/_sandbox/ratelimit/reset")
            #expect(try await client.get("/teams").status == 200)
            #expect(try await client.get("/teams", token: Self.other).status == 200)
        }
    }

    @Test("requests without a known token count in the totals only")
    func unknownTokensBelongToNoCompany() async throws {
        try await withSandbox { (sandbox: FrontSandbox, client: SandboxClient) async throws in
            #expect(try await client.get("/teams", token: "nobody").status == 401)
            #expect(try await client.get("/teams", token: nil).status == 401)
            let stats = sandbox.stats()
            #expect(stats["total"] == 2)
            #expect(stats["cmp_sandbox total"] == 0)
        }
    }
}
