import Foundation
import Model
import Store
import Testing

@testable import App

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Counts the elements of an XML document by name and class, and whether it parsed.
final class ElementCounter: NSObject, XMLParserDelegate {
    var byName: [String: Int] = [:]
    var byClass: [String: Int] = [:]
    var rootAttributes: [String: String]?

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if rootAttributes == nil { rootAttributes = attributes }
        byName[name, default: 0] += 1
        for word in (attributes["class"] ?? "").split(separator: " ") { byClass[String(word), default: 0] += 1 }
    }

    static func parse(_ text: String) -> ElementCounter? {
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = counter
        return parser.parse() ? counter : nil
    }
}

@Suite("A capture's history chart")
struct HistoryChartTests {
    static func runs(_ count: Int, seconds: (Int) -> Int = { $0 * 7 }) -> [HistoryChart.Run] {
        (0..<count).map { index in
            HistoryChart.Run(
                id: Int64(index + 1), state: index % 10 == 3 ? "failed" : "succeeded",
                created: Date(timeIntervalSince1970: 1_700_000_000 + Double(index) * 300), documents: index * 13 % 200,
                requests: index % 17, seconds: seconds(index))
        }
    }

    @Test(
        "it renders valid SVG for 0, 1 and 100 runs: two bars and a dot per run, a title each, no NaN or infinity",
        arguments: [0, 1, 2, 100])
    func renders(count: Int) throws {
        let svg = HistoryChart(runs: Self.runs(count), captureName: "Acme").svg
        let parsed = try #require(ElementCounter.parse(svg), "not XML:\n\(svg)")
        #expect(parsed.byClass["bar", default: 0] == 2 * count)
        #expect(parsed.byClass["bar-documents", default: 0] == count)
        #expect(parsed.byClass["bar-requests", default: 0] == count)
        #expect(parsed.byClass["duration", default: 0] == count)
        #expect(parsed.byName["title", default: 0] == 3 * count)
        #expect(parsed.byName["polyline", default: 0] == (count >= 2 ? 1 : 0))
        #expect(parsed.rootAttributes?["role"] == "img")
        #expect(parsed.rootAttributes?["aria-label"]?.contains("Acme") == true)
        let lower = svg.lowercased()
        #expect(!lower.contains("nan") && !lower.contains("inf"))
        if count == 0 { #expect(svg.contains("No runs yet")) }
    }

    @Test("runs that took no time, or did nothing, still draw finite numbers")
    func zeros() throws {
        let runs = Self.runs(5, seconds: { _ in 0 }).map {
            HistoryChart.Run(id: $0.id, state: $0.state, created: $0.created, documents: 0, requests: 0, seconds: 0)
        }
        let svg = HistoryChart(runs: runs, captureName: "Idle").svg
        let parsed = try #require(ElementCounter.parse(svg))
        #expect(parsed.byClass["bar", default: 0] == 10)
        #expect(!svg.lowercased().contains("nan") && !svg.lowercased().contains("inf"))
        let huge = [HistoryChart.Run(id: 1, state: "succeeded", created: Date(), documents: .max, requests: .max, seconds: .max)]
        let big = HistoryChart(runs: huge, captureName: "Big").svg
        #expect(ElementCounter.parse(big) != nil)
    }

    @Test("more than 100 runs draw the newest 100")
    func limit() throws {
        let parsed = try #require(ElementCounter.parse(HistoryChart(runs: Self.runs(150), captureName: "Acme").svg))
        #expect(parsed.byClass["bar-documents", default: 0] == 100)
    }

    @Test("a name with markup and control characters is escaped and the SVG stays valid XML")
    func escaping() throws {
        let svg = HistoryChart(runs: Self.runs(3), captureName: "<script>alert(\"x\")</script> & 'co'\u{1}").svg
        #expect(!svg.contains("<script>"))
        #expect(svg.contains("&lt;script&gt;"))
        let parsed = try #require(ElementCounter.parse(svg))
        #expect(parsed.rootAttributes?["aria-label"]?.contains("<script>") == true)  // decoded back by the parser
    }
}

@Suite("Capture freshness on /metrics")
struct CaptureFreshnessTests {
    @Test("last success timestamp and lag per capture; none yet: lag since creation and no timestamp; labels escaped")
    func lines() {
        let created = Date(timeIntervalSince1970: 1_700_000_000)
        let acme = CaptureRecord(
            id: 1, name: "Acme", prefix: "acme", sealedToken: Data(), tokenHint: "abcd", startDate: nil, resources: ["tags"],
            createdAt: created, createdBy: nil)
        let odd = CaptureRecord(
            id: 2, name: "Odd \"quoted\" \\ name\nline", prefix: "odd", sealedToken: Data(), tokenHint: "abcd",
            startDate: nil, resources: ["tags"], createdAt: created, createdBy: nil)
        let text = CaptureFreshness(
            captures: [acme, odd], lastSuccesses: [1: created.addingTimeInterval(100)], now: created.addingTimeInterval(142)
        ).text
        #expect(
            text.contains("switchboard_capture_last_success_timestamp_seconds{capture_id=\"1\",capture=\"Acme\"} 1700000100\n"))
        #expect(text.contains("switchboard_capture_lag_seconds{capture_id=\"1\",capture=\"Acme\"} 42\n"))
        #expect(
            text.contains(
                "switchboard_capture_lag_seconds{capture_id=\"2\",capture=\"Odd \\\"quoted\\\" \\\\ name\\nline\"} 142\n"))
        #expect(!text.contains("switchboard_capture_last_success_timestamp_seconds{capture_id=\"2\""))
        #expect(text.contains("# TYPE switchboard_capture_lag_seconds gauge"))
        #expect(CaptureFreshness(captures: [], lastSuccesses: [:], now: created).text == "")
    }

    @Test("/metrics carries the lines for every capture")
    func endpoint() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme")["id"] as? Int)
            let metrics = await app.get("/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("switchboard_capture_lag_seconds{capture_id=\"\(id)\",capture=\"Acme\"}"))
        }
    }

    // Needs the store's lastSuccesses (SQLiteStore+Schedules).
    @Test("a succeeded job gives the capture its timestamp line")
    func afterSuccess() async throws {
        try await withApp { app in
            let id = try #require(try await app.makeCapture("Acme")["id"] as? Int)
            #expect(await app.api("/api/captures/\(id)/jobs", method: "POST").status == 201)
            let job = try #require(try app.services.store.claimJob(token: "t", leaseFor: .seconds(60)))
            try app.services.store.finishJob(jobID: job.id, token: "t", outcome: .succeeded, bindings: nil)
            let metrics = await app.get("/metrics")
            #expect(
                metrics.text.contains("switchboard_capture_last_success_timestamp_seconds{capture_id=\"\(id)\",capture=\"Acme\"}")
            )
            let page = await app.get("/captures/\(id)")
            #expect(page.count("class=\"bar bar-documents\"") == 1)
        }
    }
}
