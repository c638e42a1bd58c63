import Foundation
import SwitchboardTesting
import Testing

@testable import Web

@Suite("Templates")
struct TemplatesTests {
    func folder(_ files: [String: String]) throws -> String {
        let dir = try makeTemporaryFolder("tpl")
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir.path
    }

    @Test("pages extend the layout, and every value is HTML-escaped")
    func layoutAndEscaping() throws {
        let dir = try folder([
            "layout.mustache": "<html><title>{{title}}</title>{{$content}}{{/content}}</html>",
            "page.mustache": "{{<layout}}{{$content}}<p>{{name}}</p>{{/content}}{{/layout}}",
        ])
        let html = try Templates(directory: dir).render("page", ["title": "T&C", "name": "<script>alert('x')</script>"])
        #expect(html == "<html><title>T&amp;C</title><p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p></html>")
    }

    @Test("an unknown template name is an error that names it")
    func unknown() throws {
        let templates = try Templates(directory: try folder(["a.mustache": "a"]))
        #expect(throws: TemplateError.self) { try templates.render("nope", [String: Any]()) }
    }

    @Test("a folder without templates stops start-up")
    func empty() throws {
        #expect(throws: TemplateError.self) { try Templates(directory: try folder([:])) }
    }
}
