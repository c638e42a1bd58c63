import Foundation
import Sandbox
import Testing
import Transport

/// The sandbox's HTTP rules, spoken to directly (no client logic in between).
@Suite struct SandboxHTTPTests {
    let transport = URLSessionTransport()

    func withSandbox(_ options: FivetranSandbox.Options = .init(), _ body: (URL, FivetranSandbox) async throws -> Void)
        async throws
    {
        let sandbox = FivetranSandbox(options: options)
        let base = try await sandbox.start()
        do { try await body(base, sandbox) } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    static let auth = "Basic " + Data("sandbox-key:sandbox-secret".utf8).base64EncodedString()

    func send(
        _ base: URL, _ method: String, _ path: String, headers: [String: String] = ["Authorization": auth], body: String? = nil
    ) async throws -> HTTPResponse {
        try await transport.send(
            HTTPRequest(
                method: method, url: URL(string: base.absoluteString + path)!, headers: headers, body: body.map { Data($0.utf8) })
        )
    }

    func json(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
    }

    @Test func everyAnswerCarriesRateLimitHeaders() async throws {
        try await withSandbox { base, _ in
            for path in ["/v1/connections", "/nope"] {
                let response = try await send(base, "GET", path)
                #expect(response[header: "X-Rate-Limit"] == "20000")
                #expect(response[header: "X-Rate-Limit-Remaining"] != nil)
            }
        }
    }

    @Test func missingAuthIs401WithTheDocumentedBody() async throws {
        try await withSandbox { base, _ in
            let response = try await send(base, "GET", "/v1/connections", headers: [:])
            #expect(response.status == 401)
            #expect(try json(response)["message"] as? String == "Invalid authorization credentials")
        }
    }

    @Test func acceptAndContentTypeAreChecked() async throws {
        try await withSandbox { base, _ in
            #expect(
                try await send(base, "GET", "/v1/connections", headers: ["Authorization": Self.auth, "Accept": "text/html"])
                    .status == 406)
            #expect(
                try await send(
                    base, "GET", "/v1/connections",
                    headers: ["Authorization": Self.auth, "Accept": "application/json; version=2"]
                ).status == 200)
            let post = try await send(
                base, "POST", "/v1/connections", headers: ["Authorization": Self.auth, "Content-Type": "text/plain"], body: "{}")
            #expect(post.status == 415)
        }
    }

    @Test func pagingRejectsBadLimitsAndCursorsAndEndsWithoutACursor() async throws {
        try await withSandbox { base, _ in
            #expect(try await send(base, "GET", "/v1/groups/sandbox_group/connections?limit=0").status == 400)
            #expect(try await send(base, "GET", "/v1/groups/sandbox_group/connections?limit=1001").status == 400)
            #expect(try await send(base, "GET", "/v1/groups/sandbox_group/connections?cursor=%21garbled").status == 400)
            let first = try json(try await send(base, "GET", "/v1/groups/sandbox_group/connections?limit=30"))
            let data = try #require(first["data"] as? [String: Any])
            let cursor = try #require(data["next_cursor"] as? String)
            let last = try json(try await send(base, "GET", "/v1/groups/sandbox_group/connections?limit=30&cursor=\(cursor)"))
            let lastData = try #require(last["data"] as? [String: Any])
            #expect((lastData["items"] as? [Any])?.count == 10)
            #expect(lastData["next_cursor"] == nil)
        }
    }

    @Test func createNamesTheMissingSchemaField() async throws {
        try await withSandbox { base, _ in
            let headers = ["Authorization": Self.auth, "Content-Type": "application/json"]
            let response = try await send(
                base, "POST", "/v1/connections", headers: headers,
                body: #"{"service":"gcs","group_id":"sandbox_group","config":{"schema":"files"}}"#)
            #expect(response.status == 400)
            #expect((try json(response)["message"] as? String)?.contains("config.table_group_name") == true)
            let unknownGroup = try await send(
                base, "POST", "/v1/connections", headers: headers,
                body: #"{"service":"15five","group_id":"other","config":{"schema":"x"}}"#)
            #expect(unknownGroup.status == 404)
            let plain = try await send(
                base, "POST", "/v1/connections", headers: headers,
                body: #"{"service":"15five","group_id":"sandbox_group","config":{"schema":"x"}}"#)
            #expect(plain.status == 201)
            #expect((try json(plain)["data"] as? [String: Any])?["connect_card"] == nil)
        }
    }

    @Test func theLegacyTokenEndpointAnswersABareToken() async throws {
        try await withSandbox { base, _ in
            let list = try json(try await send(base, "GET", "/v1/groups/sandbox_group/connectors?limit=1"))
            let id = try #require(((list["data"] as? [String: Any])?["items"] as? [[String: Any]])?.first?["id"] as? String)
            let response = try await send(base, "POST", "/v1/connectors/\(id)/connect-card-token")
            #expect(response.status == 200)
            let body = try json(response)
            #expect(body["token"] is String)
            #expect(body["code"] == nil)
            #expect(try await send(base, "POST", "/v1/connectors/missing/connect-card-token").status == 404)
        }
    }

    @Test func adminHooksInjectFaultsCountAndReset() async throws {
        try await withSandbox { base, sandbox in
            let hook = ["Content-Type": "application/json"]
            #expect(
                try await send(base, "POST", "/_sandbox/faults", headers: hook, body: #"{"status":500,"count":1}"#).status == 200)
            #expect(try await send(base, "GET", "/v1/connections").status == 500)
            #expect(try await send(base, "GET", "/v1/connections").status == 200)
            let stats = try json(try await send(base, "GET", "/_sandbox/stats", headers: [:]))
            #expect(stats["GET /v1/connections"] as? Int == 2)
            #expect(try await send(base, "POST", "/_sandbox/latency", headers: hook, body: #"{"ms":1}"#).status == 200)
            #expect(try await send(base, "POST", "/_sandbox/reset", headers: [:]).status == 200)
            #expect(sandbox.stats().isEmpty)
            #expect(try await send(base, "DELETE", "/v1/connections").status == 405)
            #expect(try await send(base, "GET", "/v2/nothing").status == 404)
        }
    }

    @Test func twoSandboxesGetTheirOwnPortsAndTheSameSeededData() async throws {
        try await withSandbox { baseA, _ in
            try await withSandbox { baseB, _ in
                #expect(baseA.port != baseB.port)
                let a = try await send(baseA, "GET", "/v1/groups/sandbox_group/connections?limit=5")
                let b = try await send(baseB, "GET", "/v1/groups/sandbox_group/connections?limit=5")
                #expect(a.body == b.body)
            }
        }
    }
}
