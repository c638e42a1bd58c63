import Fivetran
import Foundation
import OpenAPIKit
import Testing

@testable import App

/// `GET /api/openapi.json` (Sources/App/Resources/openapi.json) held to the app: a valid OpenAPI
/// 3.1 document, naming exactly the `/api/` routes the router knows, whose response schemas the
/// app's real answers match.
@Suite("The API's OpenAPI document")
struct OpenAPIDocumentTests {
    @Test("served open as JSON, it decodes as OpenAPI 3.1 and validates")
    func valid() async throws {
        try await withApp(connections: 3) { app in
            let answer = await app.get("/api/openapi.json")
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type")?.hasPrefix("application/json") == true)
            let document = try JSONDecoder().decode(OpenAPI.Document.self, from: Data(answer.body))
            try document.validate()
            #expect(document.openAPIVersion == .v3_1_0)
        }
    }

    @Test("every /api/ route of the router is in it with its method, and it names no other")
    func routes() async throws {
        try await withApp(connections: 3) { app in
            let known = Set(app.app.routes.filter { $0.pattern.hasPrefix("/api/") }.map { "\($0.method) \($0.pattern)" })
            let document = try APIDocument(await app.get("/api/openapi.json").body)
            #expect(known.count >= 14)
            #expect(document.operations == known, "described but not routed, or routed but not described")
        }
    }

    @Test("the checker finds a missing key, a wrong type, a value outside its enum and an undescribed field")
    func checker() async throws {
        try await withApp(connections: 1) { app in
            let document = try APIDocument(await app.get("/api/openapi.json").body)
            let job = JSONValue.object(["id": .string("7"), "state": .string("sleeping")])
            let problems = document.problems(job, .object(["$ref": .string("#/components/schemas/Job")]), at: "$")
            #expect(problems.contains("$: no bindings"))
            #expect(problems.contains { $0.hasPrefix("$.id:") })
            #expect(problems.contains { $0.hasPrefix("$.state:") })
            let change = JSONValue.object(["paused": .bool(true), "colour": .string("red")])
            #expect(
                document.problems(change, .object(["$ref": .string("#/components/schemas/ConnectorChange")]), at: "$") == [
                    "$: colour is not described"
                ])
        }
    }

    @Test("real answers match their response schemas: captures, jobs, audit, connectors, 304, 401, 404, 409, 422")
    func answers() async throws {
        try await withApp(connections: 5) { app in
            let document = try APIDocument(await app.get("/api/openapi.json").body)
            func check(_ method: String, _ path: String, _ answer: Answer, _ line: Int = #line) throws {
                let problems = try document.problems(answer, method: method, path: path)
                #expect(problems.isEmpty, "\(method) \(path) \(answer.status) (line \(line)): \(problems) in \(answer.text)")
            }
            let made = await app.api(
                "POST", "/api/captures",
                json: #"{"name": "Acme", "access_token": "front-secret-wxyz", "resources": ["tags", "events"]}"#)
            #expect(made.status == 201)
            try check("POST", "/api/captures", made)
            let id = try #require(try made.json()["id"] as? Int)

            let list = await app.api("/api/captures")
            try check("GET", "/api/captures", list)
            let one = await app.api("/api/captures/\(id)")
            try check("GET", "/api/captures/{id}", one)
            let same = await app.send(
                "GET", "/api/captures/\(id)",
                headers: ["Authorization": "Bearer \(AppHarness.apiToken)", "If-None-Match": one.header("ETag") ?? ""])
            #expect(same.status == 304)
            try check("GET", "/api/captures/{id}", same)

            let started = await app.api("/api/captures/\(id)/jobs", method: "POST")
            #expect(started.status == 201)
            try check("POST", "/api/captures/{id}/jobs", started)
            let again = await app.api("/api/captures/\(id)/jobs", method: "POST")
            #expect(again.status == 409)
            try check("POST", "/api/captures/{id}/jobs", again)
            let job = try #require(try started.json()["id"] as? Int)
            try check("GET", "/api/jobs/{id}", await app.api("/api/jobs/\(job)"))
            try check("GET", "/api/jobs", await app.api("/api/jobs?per_page=1"))
            try check("GET", "/api/jobs", await app.api("/api/jobs?state=nothing"))

            try check("PATCH", "/api/captures/{id}", await app.api("PATCH", "/api/captures/\(id)", json: #"{"paused": true}"#))
            let refused = await app.api("POST", "/api/captures", json: #"{"name": "", "every_minutes": 0}"#)
            #expect(refused.status == 422)
            try check("POST", "/api/captures", refused)
            let anonymous = await app.send("GET", "/api/jobs")
            #expect(anonymous.status == 401)
            try check("GET", "/api/jobs", anonymous)
            let missing = await app.api("/api/captures/987654")
            #expect(missing.status == 404)
            try check("GET", "/api/captures/{id}", missing)

            let audit = await app.api("/api/audit")
            #expect(try (audit.json()["entries"] as? [Any])?.isEmpty == false)
            try check("GET", "/api/audit", audit)

            let connectors = await app.api("/api/connectors")
            #expect(connectors.status == 200)
            try check("GET", "/api/connectors", connectors)
            let first = try #require((try connectors.json()["connectors"] as? [[String: Any]])?.first?["id"] as? String)
            try check("GET", "/api/connectors/{id}", await app.api("/api/connectors/\(first)"))
            let patched = await app.api("PATCH", "/api/connectors/\(first)", json: #"{"sync_frequency": 60}"#)
            #expect(patched.status == 200)
            try check("PATCH", "/api/connectors/{id}", patched)
            try check("GET", "/api/connectors/{id}", await app.api("/api/connectors/no_such_one"))
            try check("DELETE", "/api/captures/{id}", await app.api("/api/captures/\(id)?collections=delete", method: "DELETE"))
        }
    }
}

/// The document as JSON, and a small JSON Schema checker for the subset it uses: `type` (one
/// or a list, `"null"` among them), `enum`, `properties`, `required`, `additionalProperties`,
/// `items`, `allOf`/`anyOf`/`oneOf` and `$ref` into the document.
struct APIDocument {
    let root: JSONValue

    init(_ bytes: [UInt8]) throws {
        root = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// `METHOD /pattern` of every operation.
    var operations: Set<String> {
        guard case .object(let paths) = root["paths"] else { return [] }
        return Set(
            paths.flatMap { path, item -> [String] in
                guard case .object(let methods) = item else { return [] }
                return methods.keys.filter { ["get", "put", "post", "patch", "delete"].contains($0) }.map {
                    "\($0.uppercased()) \(path)"
                }
            })
    }

    /// What is wrong with `answer` as the document's answer of that operation: an undocumented
    /// status, a body where none is described (or none where one is), or the body's schema
    /// problems.
    func problems(_ answer: Answer, method: String, path: String) throws -> [String] {
        guard let response = resolve(root["paths"]?[path]?[method.lowercased()]?["responses"]?["\(answer.status)"]) else {
            return ["status \(answer.status) is not documented"]
        }
        guard let schema = response["content"]?["application/json"]?["schema"] else {
            return answer.body.isEmpty ? [] : ["a body where the document describes none"]
        }
        guard answer.header("Content-Type")?.hasPrefix("application/json") == true else { return ["not JSON"] }
        return problems(try JSONDecoder().decode(JSONValue.self, from: Data(answer.body)), schema, at: "$")
    }

    /// The schema (or response) itself, or what its `$ref` points at.
    func resolve(_ value: JSONValue?) -> JSONValue? {
        guard case .string(let ref) = value?["$ref"] else { return value }
        let steps = ref.dropFirst(2).split(separator: "/").map(String.init)  // "#/components/…"
        return resolve(steps.reduce(root as JSONValue?) { $0?[$1] })
    }

    func problems(_ value: JSONValue, _ schema: JSONValue, at place: String) -> [String] {
        guard let schema = resolve(schema) else { return ["\(place): unresolvable schema"] }
        var found: [String] = []
        if let types = schema["type"] {
            let names = types.strings
            if !names.contains(where: { value.isOfType($0) }) { return ["\(place): \(value) is not \(names)"] }
        }
        if case .array(let options) = schema["enum"], !options.contains(value) {
            found.append("\(place): \(value) not in \(options)")
        }
        if case .array(let all) = schema["allOf"] { found += all.flatMap { problems(value, $0, at: place) } }
        if case .array(let options) = schema["anyOf"], !options.contains(where: { problems(value, $0, at: place).isEmpty }) {
            found.append("\(place): matches none of anyOf")
        }
        if case .array(let options) = schema["oneOf"], options.filter({ problems(value, $0, at: place).isEmpty }).count != 1 {
            found.append("\(place): matches not exactly one of oneOf")
        }
        if case .object(let object) = value {
            let properties = schema["properties"]?.objectValue ?? [:]
            for name in schema["required"]?.strings ?? [] where object[name] == nil { found.append("\(place): no \(name)") }
            for (name, item) in object {
                if let property = properties[name] {
                    found += problems(item, property, at: "\(place).\(name)")
                } else if case .bool(false) = schema["additionalProperties"] {
                    found.append("\(place): \(name) is not described")
                } else if let extra = schema["additionalProperties"], extra.objectValue != nil {
                    found += problems(item, extra, at: "\(place).\(name)")
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() { found += problems(item, itemSchema, at: "\(place)[\(index)]") }
        }
        return found
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// A string, or the strings of a list.
    var strings: [String] {
        switch self {
        case .string(let text): [text]
        case .array(let items): items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        default: []
        }
    }

    func isOfType(_ type: String) -> Bool {
        switch (type, self) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("integer", .int), ("number", .int), ("number", .double): true
        case ("integer", .double(let number)): number.rounded() == number
        default: false
        }
    }
}
