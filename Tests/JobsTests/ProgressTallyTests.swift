import Capture
import Foundation
import Jobs
import Model
import Testing

@Suite("A job's progress across attempts")
struct ProgressTallyTests {
    let bindings = [
        CaptureBinding(resource: .events, collection: "acme/events"),
        CaptureBinding(resource: .tags, collection: "acme/tags"),
    ]

    @Test("a resumed attempt adds its counts to the earlier ones and moves the position on")
    func addsToEarlierAttempts() {
        let stored = [
            BindingProgress(
                name: "acme/events", resource: "events", state: .running, pages: 3, documents: 45, requests: 4,
                position: 1_000, fraction: 0.2, error: nil)
        ]
        var tally = ProgressTally(bindings: bindings, stored: stored)
        #expect(tally.bindings.map(\.state) == [.waiting, .waiting])
        #expect(tally.bindings[0].position == 1_000 && tally.bindings[0].documents == 45)

        tally.record(
            BindingProgress(
                name: "acme/events", resource: "events", state: .done, pages: 2, documents: 30, requests: 2,
                position: 5_000, fraction: 1))
        tally.record(BindingProgress(name: "acme/tags", resource: "tags", state: .failed, pages: 1, error: "no"))
        let events = tally.bindings[0]
        #expect(events.pages == 5 && events.documents == 75 && events.requests == 6)
        #expect(events.position == 5_000 && events.fraction == 1 && events.done)
        #expect(tally.bindings[1].state == .failed && tally.bindings[1].error == "no" && tally.bindings[1].position == nil)
    }
}
