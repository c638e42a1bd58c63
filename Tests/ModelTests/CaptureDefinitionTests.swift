import Foundation
import Model
import Testing

@Suite("A capture's definition")
struct CaptureDefinitionTests {
    @Test("each resource is captured into prefix/resource")
    func collections() {
        let capture = CaptureRecord(
            id: 1, name: "Acme", prefix: "acme", sealedToken: Data(), tokenHint: "wxyz", startDate: nil,
            resources: ["channels", "tags"], createdAt: Date(timeIntervalSince1970: 0), createdBy: nil)
        #expect(capture.resources.map(capture.collection(for:)) == ["acme/channels", "acme/tags"])
    }

    @Test(
        "an edit: a name kept is no new name, removed resources' collections go only when asked, a new token forgets the company")
    func edit() {
        var capture = CaptureRecord(
            id: 1, name: "Acme", prefix: "acme", sealedToken: Data([1]), tokenHint: "wxyz", startDate: nil,
            resources: ["channels", "contacts", "tags"], createdAt: Date(timeIntervalSince1970: 0), createdBy: nil)
        capture.frontCompany = "cmp_1"
        let kept = CaptureEdit(CaptureChange(name: "Acme", resources: ["tags", "tags"]), of: capture)
        #expect(kept.newName == nil)
        #expect(kept.deletedCollections.isEmpty)
        #expect(kept.capture.resources == ["tags"])
        #expect(kept.capture.frontCompany == "cmp_1")
        #expect(!kept.scheduleChanged)

        let deleted = CaptureEdit(
            CaptureChange(
                name: "Acme Support", sealedToken: (Data([2]), "abcd"), resources: ["tags"],
                schedule: CaptureSchedule(everyMinutes: 15), removedCollections: .delete),
            of: capture)
        #expect(deleted.newName == "Acme Support")
        #expect(deleted.deletedCollections == ["acme/channels", "acme/contacts"])
        #expect(deleted.capture.tokenHint == "abcd")
        #expect(deleted.capture.frontCompany == nil)
        #expect(deleted.scheduleChanged)
        #expect(deleted.capture.schedule.everyMinutes == 15)
    }
}
