import Foundation
import Sandbox

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A tiny HTTP client for the tests: real requests over loopback, JSON decoded loosely.
struct Reply {
    var status: Int
    var headers: [String: String]
    var json: Any

    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var results: [[String: Any]] { object["_results"] as? [[String: Any]] ?? [] }
    var next: String? { (object["_pagination"] as? [String: Any])?["next"] as? String }
    var ids: [String] { results.compactMap { $0["id"] as? String } }
    var total: Int? { object["_total"] as? Int }
    var errorTitle: String? { (object["_error"] as? [String: Any])?["title"] as? String }
    var errorMessage: String? { (object["_error"] as? [String: Any])?["message"] as? String }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

struct SandboxClient {
    static let token = "front-sandbox-token"
    let base: String
    let session: URLSession

    init(_ sandbox: FrontSandbox) {
        base = sandbox.baseURL!.absoluteString
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 30
        session = URLSession(configuration: config)
    }

    /// `target` is a path with query, already percent-encoded where needed, or an absolute URL.
    func get(_ target: String, token: String? = SandboxClient.token) async throws -> Reply {
        var request = URLRequest(url: URL(string: target.hasPrefix("http") ? target : base + target)!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        return try await send(request)
    }

    func admin(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        return try await send(request)
    }

    /// Status, lower-cased headers and the body's bytes, not parsed (hostile bodies are not JSON).
    func raw(_ target: String, token: String? = SandboxClient.token) async throws -> (
        status: Int, headers: [String: String], body: String
    ) {
        var request = URLRequest(url: URL(string: target.hasPrefix("http") ? target : base + target)!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let k = key as? String, let v = value as? String { headers[k.lowercased()] = v }
        }
        return (http.statusCode, headers, String(decoding: data, as: UTF8.self))
    }

    private func send(_ request: URLRequest) async throws -> Reply {
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let k = key as? String, let v = value as? String { headers[k.lowercased()] = v }
        }
        let json = data.isEmpty ? NSNull() : try JSONSerialization.jsonObject(with: data)
        return Reply(status: http.statusCode, headers: headers, json: json)
    }

    /// Follows `_pagination.next` verbatim to the end; returns every page.
    func pages(_ first: String, max: Int = 10_000) async throws -> [Reply] {
        var out: [Reply] = []
        var target: String? = first
        while let t = target, out.count < max {
            let page = try await get(t)
            guard page.status == 200 else { throw PagingError(status: page.status, message: page.errorMessage ?? "") }
            out.append(page)
            target = page.next
        }
        return out
    }
}

struct PagingError: Error {
    var status: Int
    var message: String
}

/// Data seeds for the change hooks: the default (1); 2 and 5, where `change count: 3` once
/// changed 1 and 2 conversations (it picked archived ones to archive); `SWITCHBOARD_TEST_SEED` when set.
let changeSeeds: [UInt64] =
    [1, 2, 5]
    + (ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_SEED"].flatMap { UInt64($0) }.map {
        [1, 2, 5].contains($0) ? [] : [$0]
    } ?? [])

/// Starts a sandbox on a free port for one test and stops it afterwards.
func withSandbox<T>(
    _ configure: (inout FrontSandbox.Options) -> Void = { _ in },
    _ body: (FrontSandbox, SandboxClient) async throws -> T
) async throws -> T {
    var options = FrontSandbox.Options()
    options.conversations = 40
    options.eventsPerConversation = 5
    options.contacts = 150
    options.burstPerSecond = nil
    options.rateLimitPerMinute = 100_000
    options.minuteLength = 3600
    configure(&options)
    let sandbox = FrontSandbox(options: options)
    try await sandbox.start()
    do {
        let result = try await body(sandbox, SandboxClient(sandbox))
        await sandbox.stop()
        return result
    } catch {
        await sandbox.stop()
        throw error
    }
}

func seconds(_ any: Any?) -> Double { (any as? NSNumber)?.doubleValue ?? .nan }
