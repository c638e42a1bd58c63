import Testing

@testable import Web

@Suite("Query strings and form bodies")
struct ParametersTests {
    @Test("plus is a space, %2B is a plus")
    func plusAndEncodedPlus() throws {
        let p = try Parameters.decode("q=a+b&r=c%2Bd")
        #expect(p["q"] == "a b")
        #expect(p["r"] == "c+d")
    }

    @Test("repeated keys keep every value in order; the subscript answers the first")
    func repeatedKeys() throws {
        let p = try Parameters.decode("state=broken&state=connected&x=1")
        #expect(p.all("state") == ["broken", "connected"])
        #expect(p["state"] == "broken")
    }

    @Test("empty values and bare keys are kept as empty strings")
    func emptyValues() throws {
        let p = try Parameters.decode("a=&b&&c=3")
        #expect(p["a"] == "")
        #expect(p["b"] == "")
        #expect(p["c"] == "3")
        #expect(p.pairs.count == 3)
    }

    @Test("UTF-8 is decoded, in names and values")
    func utf8() throws {
        let p = try Parameters.decode("n%C3%A4me=Caf%C3%A9+%E2%9C%93")
        #expect(p["näme"] == "Café ✓")
    }

    @Test(
        "malformed percent-encoding or non-UTF-8 bytes are a 400 that names the problem",
        arguments: ["a=%ZZ", "a=%4", "a=%", "%C3=1", "a=%FF%FE"])
    func malformed(query: String) {
        #expect(throws: HTTPError.self) { try Parameters.decode(query) }
        do {
            _ = try Parameters.decode(query, origin: "form body")
        } catch {
            #expect(error.status == 400)
            #expect(error.message.contains("form body"))
        }
    }

    @Test("percentEncode round-trips through decode")
    func roundTrip() throws {
        let value = "a b+c&d=é/?"
        let p = try Parameters.decode("v=" + percentEncode(value))
        #expect(p["v"] == value)
    }
}

@Suite("Cookies")
struct CookieTests {
    @Test("pairs separated by semicolons, spaces trimmed, quotes removed, first name wins")
    func parse() {
        let c = Cookies.parse(#"a=1; b="two";c=3; a=4; junk"#)
        #expect(c == ["a": "1", "b": "two", "c": "3"])
    }

    @Test("Set-Cookie is HttpOnly and SameSite=Lax by default")
    func setCookie() {
        let value = Cookies.setCookie(name: "sb", value: "v")
        #expect(value.contains("HttpOnly"))
        #expect(value.contains("SameSite=Lax"))
        #expect(value.hasPrefix("sb=v; Path=/"))
    }
}

@Suite("Requests built from CGI variables")
struct RequestTests {
    @Test("headers, path, query, cookies and REMOTE_USER come from the CGI variables")
    func fromCGI() throws {
        let request = try Request(
            cgi: [
                "REQUEST_METHOD": "post", "SCRIPT_NAME": "/connectors", "QUERY_STRING": "a=1",
                "HTTP_COOKIE": "x=y", "HTTP_X_FORWARDED_FOR": "1.2.3.4",
                "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
                "REMOTE_USER": "ada", "REQUEST_ID": "abc",
            ], body: Array("k=v".utf8), bodyTooLarge: false)
        #expect(request.method == "POST")
        #expect(request.path == "/connectors")
        #expect(request.query["a"] == "1")
        #expect(request.cookies["x"] == "y")
        #expect(request.header("X-Forwarded-For") == "1.2.3.4")
        #expect(request.mediaType == "application/x-www-form-urlencoded")
        #expect(try request.form()["k"] == "v")
        #expect(request.remoteUser == "ada")
        #expect(request.requestID == "abc")
    }

    @Test("a malformed QUERY_STRING is a 400")
    func malformedQuery() {
        #expect(throws: HTTPError.badRequest("The query string has malformed percent-encoding near “q=%G1”.")) {
            try Request(cgi: ["SCRIPT_NAME": "/", "QUERY_STRING": "q=%G1"], body: [], bodyTooLarge: false)
        }
    }

    @Test("a form() of another media type is a 415")
    func wrongMediaType() {
        let request = Request(method: "POST", path: "/", headers: ["content-type": "text/plain"], body: Array("a=b".utf8))
        #expect(throws: HTTPError.self) { try request.form() }
    }
}
