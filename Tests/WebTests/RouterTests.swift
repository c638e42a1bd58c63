import Testing

@testable import Web

@Suite("Router")
struct RouterTests {
    func router() -> Router {
        var router = Router()
        router.get("/connectors") { _ in .text("list") }
        router.post("/connectors") { _ in .text("create") }
        router.get("/connectors/{id}/setup") { r in .text("setup \(r[parameter: "id"] ?? "")") }
        router.get("/collections/{name}.ndjson") { r in .text("ndjson \(r[parameter: "name"] ?? "")") }
        router.get("/collections/{name}") { r in .text("page \(r[parameter: "name"] ?? "")") }
        return router
    }

    func body(_ match: Router.Match, path: String) async throws -> String? {
        guard case .found(let handler, let parameters, _) = match else { return nil }
        var request = Request(method: "GET", path: path)
        request.pathParameters = parameters
        guard case .bytes(let bytes) = try await handler(request).body else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("path parameters are bound by name")
    func parameters() async throws {
        #expect(try await body(router().match(method: "GET", path: "/connectors/abc_1/setup"), path: "") == "setup abc_1")
    }

    @Test("a suffix segment binds the part before the suffix, and wins when registered first")
    func suffix() async throws {
        let r = router()
        #expect(try await body(r.match(method: "GET", path: "/collections/acme.ndjson"), path: "") == "ndjson acme")
        #expect(try await body(r.match(method: "GET", path: "/collections/acme"), path: "") == "page acme")
    }

    @Test("the method picks the route; HEAD is served by GET")
    func methods() async throws {
        let r = router()
        #expect(try await body(r.match(method: "POST", path: "/connectors"), path: "") == "create")
        #expect(try await body(r.match(method: "HEAD", path: "/connectors"), path: "") == "list")
    }

    @Test("a known path under another method is 405 with the allowed methods")
    func methodNotAllowed() {
        guard case .methodNotAllowed(let allowed) = router().match(method: "DELETE", path: "/connectors") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["GET", "POST", "HEAD"])
    }

    @Test(
        "unknown paths, extra segments and trailing parts are 404",
        arguments: ["/nope", "/connectors/a/setup/x", "/connectors/a"])
    func notFound(path: String) {
        guard case .notFound = router().match(method: "GET", path: path) else {
            Issue.record("expected 404 for \(path)")
            return
        }
    }
}
