import Logging
import Testing

@testable import Web

@Suite("Dispatcher: CSRF guard, errors, request ids")
struct DispatcherTests {
    struct Boom: Error {}

    final class Counter: @unchecked Sendable { var posts = 0 }

    let csrf = CSRF(secret: [UInt8](repeating: 7, count: 32))

    func dispatcher(_ counter: Counter = Counter()) -> Dispatcher {
        var router = Router()
        router.get("/form") { r in .html("<form>\(r.csrfToken)</form>") }
        router.post("/form") { _ in
            counter.posts += 1
            return .text("ok")
        }
        router.post("/_/json") { _ in
            counter.posts += 1
            return .json(["ok": true])
        }
        router.get("/boom") { _ in throw Boom() }
        router.get("/bad") { _ in throw HTTPError.unprocessable("no good") }
        return Dispatcher(router: router, csrf: csrf, logger: Logger(label: "test")) { error, _ in
            .text("\(error.status) \(error.message)", status: error.status)
        }
    }

    func cgi(_ method: String, _ path: String, cookie: String? = nil, type: String? = nil) -> [String: String] {
        var env = ["REQUEST_METHOD": method, "SCRIPT_NAME": path, "REQUEST_ID": "rid42"]
        if let cookie { env["HTTP_COOKIE"] = cookie }
        if let type { env["CONTENT_TYPE"] = type }
        return env
    }

    @Test("a page issues a signed token in a cookie; a POST with it in the form passes")
    func validPost() async throws {
        let counter = Counter()
        let d = dispatcher(counter)
        let page = await d.respond(cgi: cgi("GET", "/form"), body: [], bodyTooLarge: false)
        let setCookie = try #require(page.header("Set-Cookie"))
        let token = String(setCookie.split(separator: ";")[0].dropFirst("sb_csrf=".count))
        #expect(csrf.isValid(token))
        let post = await d.respond(
            cgi: cgi("POST", "/form", cookie: "sb_csrf=\(token)", type: "application/x-www-form-urlencoded"),
            body: Array("_csrf=\(token)&a=1".utf8), bodyTooLarge: false)
        #expect(post.status == 200)
        #expect(counter.posts == 1)
    }

    @Test(
        "a forged POST gets 403 and the handler never runs",
        arguments: [
            (nil, "a=1"),  // no token at all
            ("sb_csrf=forged", "_csrf=forged"),  // equal but unsigned
            ("sb_csrf=X", "_csrf=Y"),  // different
        ] as [(String?, String)])
    func forged(cookie: String?, body: String) async {
        let counter = Counter()
        let response = await dispatcher(counter).respond(
            cgi: cgi("POST", "/form", cookie: cookie, type: "application/x-www-form-urlencoded"),
            body: Array(body.utf8), bodyTooLarge: false)
        #expect(response.status == 403)
        #expect(counter.posts == 0)
    }

    @Test("a signed token whose form field differs from the cookie is refused")
    func mismatched() async {
        let counter = Counter()
        let a = csrf.issue()
        let b = csrf.issue()
        let response = await dispatcher(counter).respond(
            cgi: cgi("POST", "/form", cookie: "sb_csrf=\(a)", type: "application/x-www-form-urlencoded"),
            body: Array("_csrf=\(b)".utf8), bodyTooLarge: false)
        #expect(response.status == 403)
        #expect(counter.posts == 0)
    }

    @Test("JSON posts (the sample's client) need no form token")
    func jsonPost() async {
        let counter = Counter()
        let response = await dispatcher(counter).respond(
            cgi: cgi("POST", "/_/json", type: "application/json"), body: Array("{}".utf8), bodyTooLarge: false)
        #expect(response.status == 200)
        #expect(counter.posts == 1)
    }

    @Test("a thrown error that is not an HTTPError is a 500 naming the request id")
    func internalError() async {
        let response = await dispatcher().respond(cgi: cgi("GET", "/boom"), body: [], bodyTooLarge: false)
        #expect(response.status == 500)
        #expect(response.header("X-Request-Id") == "rid42")
        guard case .bytes(let bytes) = response.body else { return }
        #expect(String(decoding: bytes, as: UTF8.self).contains("rid42"))
    }

    @Test("an HTTPError keeps its status; too-large bodies are 413; unknown 404; wrong method 405 with Allow")
    func statuses() async {
        let d = dispatcher()
        #expect(await d.respond(cgi: cgi("GET", "/bad"), body: [], bodyTooLarge: false).status == 422)
        #expect(await d.respond(cgi: cgi("POST", "/form"), body: [], bodyTooLarge: true).status == 413)
        #expect(await d.respond(cgi: cgi("GET", "/missing"), body: [], bodyTooLarge: false).status == 404)
        let wrong = await d.respond(cgi: cgi("PUT", "/form"), body: [], bodyTooLarge: false)
        #expect(wrong.status == 405)
        #expect(wrong.header("Allow") == "GET, POST, HEAD")
    }

    @Test("redirects go only to absolute http(s) or root-relative locations")
    func redirects() {
        #expect(Response.redirect(to: "/connectors").header("Location") == "/connectors")
        #expect(Response.redirect(to: "https://fivetran.com/x").header("Location") == "https://fivetran.com/x")
        #expect(Response.redirect(to: "//evil.example").header("Location") == "/")
        #expect(Response.redirect(to: "javascript:alert(1)").header("Location") == "/")
    }

    @Test("over https the CSRF cookie is __Host- prefixed and Secure, and only that cookie is accepted")
    func hostPrefixedCookieOverHTTPS() async throws {
        let secure = CSRF(secret: [UInt8](repeating: 7, count: 32), secure: true)
        var router = Router()
        router.get("/form") { r in .html("<form>\(r.csrfToken)</form>") }
        router.post("/form") { _ in .text("ok") }
        let d = Dispatcher(router: router, csrf: secure, logger: Logger(label: "test"), publicURL: "https://sb.example") {
            error, _ in .text("\(error.status)", status: error.status)
        }
        let page = await d.respond(cgi: cgi("GET", "/form"), body: [], bodyTooLarge: false)
        let setCookie = try #require(page.header("Set-Cookie"))
        #expect(setCookie.hasPrefix("__Host-sb_csrf="))
        #expect(setCookie.contains("; Secure"))
        #expect(setCookie.contains("Path=/"))
        #expect(!setCookie.contains("Domain"))
        let token = String(setCookie.split(separator: ";")[0].dropFirst("__Host-sb_csrf=".count))
        let form = Array("_csrf=\(token)".utf8)
        let type = "application/x-www-form-urlencoded"
        #expect(
            await d.respond(
                cgi: cgi("POST", "/form", cookie: "__Host-sb_csrf=\(token)", type: type), body: form, bodyTooLarge: false
            ).status == 200)
        // The unprefixed name (which a sibling subdomain could plant) is not read.
        #expect(
            await d.respond(cgi: cgi("POST", "/form", cookie: "sb_csrf=\(token)", type: type), body: form, bodyTooLarge: false)
                .status == 403)
    }

    @Test(
        "a POST whose Origin or Sec-Fetch-Site names another site is refused, even with a valid token",
        arguments: [
            ("HTTP_ORIGIN", "https://evil.example", 403), ("HTTP_ORIGIN", "null", 403),
            ("HTTP_SEC_FETCH_SITE", "cross-site", 403), ("HTTP_SEC_FETCH_SITE", "same-site", 403),
            ("HTTP_ORIGIN", "http://127.0.0.1:8080", 200), ("HTTP_SEC_FETCH_SITE", "same-origin", 200),
            ("HTTP_ORIGIN", "http://localhost:8080", 200),  // the Host it was sent to
        ])
    func crossSiteIsRefused(header: String, value: String, status: Int) async {
        var router = Router()
        router.post("/form") { _ in .text("ok") }
        let d = Dispatcher(router: router, csrf: csrf, logger: Logger(label: "test"), publicURL: "http://127.0.0.1:8080") {
            error, _ in .text("\(error.status)", status: error.status)
        }
        let token = csrf.issue()
        var env = cgi("POST", "/form", cookie: "sb_csrf=\(token)", type: "application/x-www-form-urlencoded")
        env[header] = value
        env["HTTP_HOST"] = "localhost:8080"
        #expect(await d.respond(cgi: env, body: Array("_csrf=\(token)".utf8), bodyTooLarge: false).status == status)
    }
}
