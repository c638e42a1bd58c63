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
}
