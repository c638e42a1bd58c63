import Foundation
import Testing

@testable import Sandbox

/// The HTTP edge both stand-ins share: what their cores can rely on whichever API they play.
@Suite struct SandboxEdgeTests {
    @Test func settingAHeaderReplacesItWhateverItsCaseAndKeepsTheNewSpelling() {
        var headers: SandboxHeaders = ["X-RateLimit-Remaining": "4", "Content-Type": "application/json"]
        headers["x-ratelimit-remaining"] = "nan"
        #expect(headers["X-RATELIMIT-REMAINING"] == "nan")
        #expect(Array(headers).map(\.name) == ["Content-Type", "x-ratelimit-remaining"])
        headers.append(contentsOf: ["content-type": "text/plain", "retry-after": "1"] as SandboxHeaders)
        #expect(Array(headers).count == 3)
        #expect(headers["Content-Type"] == "text/plain")
    }

    @Test func queriesKeepOrderAndRepeatsDecodeEscapesAndReadPlusAsASpace() {
        let request = SandboxRequest(
            method: "get", path: "/a%2Fb/c", query: "q%5Btypes%5D%5B%5D=tag&q%5Btypes%5D%5B%5D=assign&s=a+b%2B&e")
        #expect(request.method == "GET")
        #expect(request.segments == ["a/b", "c"])
        #expect(request.queryItems.map(\.name) == ["q[types][]", "q[types][]", "s", "e"])
        #expect(request.queryValue("q[types][]") == "tag")
        #expect(request.queryValue("s") == "a b+")
        #expect(request.queryValue("e") == "")
        #expect(request.queryValue("missing") == nil)
    }

    @Test func headerLookupIgnoresCase() {
        let request = SandboxRequest(method: "GET", path: "/", headers: ["Authorization": "Bearer t"])
        #expect(request.header("authorization") == "Bearer t")
        #expect(request.header("AUTHORIZATION") == "Bearer t")
    }

    @Test func base64URLHasNoPaddingOrQueryUnsafeCharactersAndRoundTrips() throws {
        for length in 0..<8 {
            let data = Data((0..<length).map { UInt8(truncatingIfNeeded: 0xFB + $0 * 3) })
            let text = Base64URL.encode(data)
            #expect(!text.contains { "+/=".contains($0) }, "\(text)")
            #expect(Base64URL.decode(text) == data)
        }
        #expect(Base64URL.decode("not base64!") == nil)
    }

    @Test func everyJSONAnswerSaysItIsJSON() throws {
        let fivetran = SandboxResponse.fivetranError(404, "NotFound", "no")
        let front = SandboxResponse.frontNotFound("no")
        for response in [fivetran, front] {
            #expect(response.headers["content-type"] == "application/json")
            #expect(try JSONSerialization.jsonObject(with: response.body) is [String: Any])
        }
        // Each in its API's spelling.
        #expect(Array(fivetran.headers).map(\.name) == ["Content-Type"])
        #expect(Array(front.headers).map(\.name) == ["content-type"])
    }
}
