import Foundation
import Model
import Testing

/// A binding's progress is saved as JSON with every heartbeat and read back by the next attempt
/// and by every later version of the worker, so its encoded shape is a stored format.
@Suite("A binding's progress as stored")
struct JobBindingProgressTests {
    @Test("the encoded keys are the stored ones")
    func encodedShape() throws {
        let progress = JobBindingProgress(
            name: "acme/events", resource: "events", pages: 3, documents: 45, deleted: 1, requests: 4, done: false,
            state: "running", cursor: "2024-11-15T09:12:00Z", fraction: 0.5, error: nil)
        let object = try #require(
            try JSONSerialization.jsonObject(with: try JSONEncoder().encode(progress)) as? [String: Any])
        #expect(
            object.keys.sorted() == [
                "cursor", "deleted", "documents", "done", "fraction", "name", "pages", "requests", "resource", "state",
            ])
        #expect(object["name"] as? String == "acme/events" && object["documents"] as? Int == 45)
        #expect(object["cursor"] as? String == "2024-11-15T09:12:00Z" && object["fraction"] as? Double == 0.5)
    }

    @Test("a row saved without the optional fields reads back with them empty")
    func readsSavedRows() throws {
        let saved =
            #"[{"deleted":0,"documents":0,"done":false,"name":"acme/tags","pages":0,"requests":0,"resource":"tags","state":"waiting"}]"#
        let read = try JSONDecoder().decode([JobBindingProgress].self, from: Data(saved.utf8))
        #expect(read == [JobBindingProgress(name: "acme/tags", resource: "tags")])
    }
}
