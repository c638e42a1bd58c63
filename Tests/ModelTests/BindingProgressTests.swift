import Foundation
import Model
import Testing

/// A binding's progress is saved as JSON with every heartbeat and read back by the next attempt
/// and by every later version of the worker, so its encoded shape is a stored format.
@Suite("A binding's progress as stored")
struct BindingProgressTests {
    @Test("the encoded keys are the stored ones, with the position in milliseconds")
    func encodedShape() throws {
        let progress = BindingProgress(
            name: "acme/events", resource: "events", state: .running, pages: 3, documents: 45, deleted: 1, requests: 4,
            position: 1_731_661_920_000, fraction: 0.5)
        let object = try #require(
            try JSONSerialization.jsonObject(with: try JSONEncoder().encode(progress)) as? [String: Any])
        #expect(
            object.keys.sorted() == [
                "deleted", "documents", "done", "fraction", "name", "pages", "position", "requests", "resource", "state",
            ])
        #expect(object["name"] as? String == "acme/events" && object["documents"] as? Int == 45)
        #expect(object["state"] as? String == "running" && object["done"] as? Bool == false)
        #expect(object["position"] as? Int == 1_731_661_920_000 && object["fraction"] as? Double == 0.5)
        #expect(try JSONDecoder().decode(BindingProgress.self, from: JSONEncoder().encode(progress)) == progress)
    }

    @Test("a row saved without the optional fields reads back with them empty")
    func readsSavedRows() throws {
        let saved =
            #"[{"deleted":0,"documents":0,"done":false,"name":"acme/tags","pages":0,"requests":0,"resource":"tags","state":"waiting"}]"#
        let read = try JSONDecoder().decode([BindingProgress].self, from: Data(saved.utf8))
        #expect(read == [BindingProgress(name: "acme/tags", resource: "tags")])
    }

    @Test("a row saved with a cursor text reads back with its time as the position")
    func readsRowsWithACursorText() throws {
        let saved = #"""
            [{"cursor":"2024-11-15T09:12:00Z","deleted":0,"documents":45,"done":false,"fraction":0.5,"name":"acme/events","pages":3,"requests":4,"resource":"events","state":"running"},
             {"cursor":"searched to 2024-11-15T00:00:00Z","deleted":0,"documents":9,"done":true,"name":"acme/conversations","pages":2,"requests":2,"resource":"conversations","state":"done"},
             {"cursor":"12 listed","deleted":2,"documents":12,"done":true,"name":"acme/tags","pages":1,"requests":1,"resource":"tags","state":"done"}]
            """#
        let read = try JSONDecoder().decode([BindingProgress].self, from: Data(saved.utf8))
        #expect(read.map(\.position) == [1_731_661_920_000, 1_731_628_800_000, nil])
        #expect(read.map(\.state) == [.running, .done, .done])
        #expect(read[0].documents == 45 && read[0].fraction == 0.5 && read[2].deleted == 2)
    }

    @Test("an unknown state reads as waiting instead of losing the job's progress")
    func unknownState() throws {
        let saved = #"{"name":"acme/tags","resource":"tags","state":"paused","pages":1}"#
        let read = try JSONDecoder().decode(BindingProgress.self, from: Data(saved.utf8))
        #expect(read.state == .waiting && read.pages == 1)
    }

    @Test("the fraction is how far the position is from the start date to now, clamped")
    func fraction() {
        let start = Date(timeIntervalSince1970: 1_000)
        let now = Date(timeIntervalSince1970: 3_000)
        #expect(BindingProgress.fraction(position: 2_000_000, start: start, now: now) == 0.5)
        #expect(BindingProgress.fraction(position: 500_000, start: start, now: now) == 0)
        #expect(BindingProgress.fraction(position: 9_000_000, start: start, now: now) == 1)
        #expect(BindingProgress.fraction(position: nil, start: start, now: now) == nil)
        #expect(BindingProgress.fraction(position: 2_000_000, start: now, now: start) == nil)
    }
}
