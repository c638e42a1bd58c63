import Foundation
import Testing

/// The faults that play a hostile Front: rate-limit headers that are not numbers, and list bodies
/// whose timestamps are NaN, infinite, overflowing or negative. `scripts/chaos` drives these.
@Suite("Front sandbox: hostile-data faults")
struct HostileFaultTests {

    @Test("a headers fault overrides the rate-limit headers of matching routes only, for its count")
    func headerOverride() async throws {
        try await withSandbox { _, client in
            let set = try await client.admin(
                "POST", "/_sandbox/faults",
                [
                    "headers": ["X-RateLimit-Limit": "nan", "x-ratelimit-remaining": "-5", "x-ratelimit-reset": "1e400"],
                    "count": 2, "route_prefix": "/events",
                ])
            #expect(set.status == 200)
            let listed = (set.object["faults"] as? [[String: Any]])?.first
            #expect((listed?["headers"] as? [String: String])?["x-ratelimit-limit"] == "nan")
            #expect(listed?["remaining"] as? Int == 2)

            let untouched = try await client.get("/contacts")
            #expect(Int(untouched.header("x-ratelimit-limit") ?? "") != nil)
            for _ in 0..<2 {
                let hostile = try await client.raw("/events")
                #expect(hostile.status == 200)
                #expect(hostile.headers["x-ratelimit-limit"] == "nan")
                #expect(hostile.headers["x-ratelimit-remaining"] == "-5")
                #expect(hostile.headers["x-ratelimit-reset"] == "1e400")
            }
            let after = try await client.get("/events")
            #expect(Int(after.header("x-ratelimit-limit") ?? "") != nil)
            let stats = try await client.admin("GET", "/_sandbox/stats").object
            #expect(stats["headers injected"] as? Int == 2)
        }
    }

    @Test("an empty value is sent as an empty header; without a count the fault lasts until DELETE")
    func emptyAndUnlimited() async throws {
        try await withSandbox { _, client in
            _ = try await client.admin("POST", "/_sandbox/faults", ["headers": ["x-ratelimit-limit": ""]])
            for _ in 0..<3 {
                let reply = try await client.raw("/tags")
                #expect(reply.status == 200)
                #expect(reply.headers["x-ratelimit-limit"] == "")
            }
            _ = try await client.admin("DELETE", "/_sandbox/faults")
            #expect(Int(try await client.get("/tags").header("x-ratelimit-limit") ?? "") != nil)
        }
    }

    @Test("headers given with a status go on that injected answer: a 429 whose retry-after is inf")
    func retryAfterOnStatus() async throws {
        try await withSandbox { _, client in
            _ = try await client.admin(
                "POST", "/_sandbox/faults", ["status": 429, "headers": ["retry-after": "inf"], "count": 1])
            let limited = try await client.raw("/teams")
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"] == "inf")
            let next = try await client.get("/teams")
            #expect(next.status == 200)
            #expect(next.header("retry-after") == nil)
            let faults = try await client.admin("GET", "/_sandbox/faults").object["faults"] as? [Any]
            #expect(faults?.isEmpty == true)
        }
    }

    @Test("corrupt_timestamps writes each literal in place of every numeric timestamp of _results, embedded ones too")
    func corruptTimestamps() async throws {
        let literals = ["nan": "NaN", "inf": "Infinity", "1e400": "1e400", "-1": "-1", "huge": "9223372036854775807"]
        for (mode, literal) in literals.sorted(by: { $0.key < $1.key }) {
            try await withSandbox { _, client in
                // Compared from "_results" on: each page's next link carries a fresh page token.
                func results(_ body: String) -> String {
                    body.range(of: "\"_results\":").map { String(body[$0.lowerBound...]) } ?? ""
                }
                let clean = try await client.raw("/events?limit=2")
                _ = try await client.admin(
                    "POST", "/_sandbox/faults", ["corrupt_timestamps": mode, "count": 1, "route_prefix": "/events"])
                #expect(try await client.raw("/contacts?limit=2").body.contains(":\(literal)") == false, "\(mode): other routes")
                let hostile = try await client.raw("/events?limit=2")
                #expect(hostile.status == 200)
                for key in ["emitted_at", "created_at", "updated_at"] {
                    #expect(hostile.body.contains("\"\(key)\":\(literal)"), "\(mode): \(key)")
                }
                // Exactly the timestamps changed: the clean page with each one replaced is the hostile page.
                let pattern = try NSRegularExpression(
                    pattern: #""(emitted_at|created_at|updated_at|posted_at|waiting_since)":-?[0-9]+(\.[0-9]+)?"#)
                let cleanResults = results(clean.body)
                let expected = pattern.stringByReplacingMatches(
                    in: cleanResults, range: NSRange(cleanResults.startIndex..., in: cleanResults),
                    withTemplate: "\"$1\":\(literal)")
                #expect(!cleanResults.isEmpty && expected != cleanResults)
                #expect(results(hostile.body) == expected, "\(mode)")
                // The next page is clean again: the seeded data never changed.
                let again = try await client.raw("/events?limit=2")
                #expect(results(again.body) == cleanResults, "\(mode)")
            }
        }
    }

    @Test("corrupt_timestamps leaves single documents alone and is only used up by list pages")
    func corruptOnlyLists() async throws {
        try await withSandbox { _, client in
            let id = try #require(try await client.get("/contacts?limit=1").ids.first)
            _ = try await client.admin(
                "POST", "/_sandbox/faults", ["corrupt_timestamps": "1e400", "count": 1, "route_prefix": "/contacts"])
            let single = try await client.raw("/contacts/\(id)")
            #expect(single.status == 200)
            #expect(!single.body.contains("1e400"))
            let list = try await client.raw("/contacts?limit=1")
            #expect(list.body.contains("\"updated_at\":1e400"))
            let clean = try await client.raw("/contacts?limit=1")
            #expect(!clean.body.contains("1e400"))
            let stats = try await client.admin("GET", "/_sandbox/stats").object
            #expect(stats["timestamps corrupted"] as? Int == 1)
        }
    }

    @Test("bad fault bodies get 400 naming what is wrong")
    func validation() async throws {
        try await withSandbox { _, client in
            let mode = try await client.admin("POST", "/_sandbox/faults", ["corrupt_timestamps": "sometimes"])
            #expect(mode.status == 400)
            #expect(mode.errorMessage?.contains("nan, inf, 1e400, -1, huge") == true)
            let notObject = try await client.admin("POST", "/_sandbox/faults", ["headers": ["x-ratelimit-limit"]])
            #expect(notObject.status == 400)
            let badName = try await client.admin("POST", "/_sandbox/faults", ["headers": ["bad name": "1"]])
            #expect(badName.status == 400)
            let newline = try await client.admin("POST", "/_sandbox/faults", ["headers": ["x-ratelimit-limit": "1\r\nx-evil: 1"]])
            #expect(newline.status == 400)
            let nothing = try await client.admin("POST", "/_sandbox/faults", ["count": 3])
            #expect(nothing.status == 400)
            let routes = try await client.admin("GET", "/_sandbox").object["routes"] as? [String]
            #expect(routes?.contains { $0.contains("corrupt_timestamps") } == true)
            #expect(routes?.contains { $0.contains("headers") } == true)
        }
    }
}
