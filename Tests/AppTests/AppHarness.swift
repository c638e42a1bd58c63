import FastCGI
import Foundation
import Logging
import Sandbox
import SwitchboardTesting
import Testing

@testable import App

/// The whole app in process: `Services` and `Application` on a temp folder of their own, the
/// Fivetran stand-in on a free loopback port (reached over real HTTP by the real client), and
/// requests handed to the responder exactly as the FastCGI edge hands them over. No nginx and
/// no worker process: what only those can show stays in EndToEndTests.
final class AppHarness: Sendable {
    let folder: URL
    let fivetran: FivetranSandbox
    let services: Services
    let app: Application
    static let apiToken = "test-api-token"

    private init(folder: URL, fivetran: FivetranSandbox, services: Services, app: Application) {
        self.folder = folder
        self.fivetran = fivetran
        self.services = services
        self.app = app
    }

    /// `connections`: how many the stand-in seeds into the group.
    static func start(connections: Int = 40, environment extra: [String: String] = [:]) async throws -> AppHarness {
        let folder = try makeTemporaryFolder("switchboard-app")
        let fivetran = FivetranSandbox(options: .init(seededConnections: connections))
        let base = try await fivetran.start()
        var environment = [
            "SWITCHBOARD_DB": folder.appendingPathComponent("app.sqlite").path,
            "SWITCHBOARD_SECRET_KEY_FILE": folder.appendingPathComponent("secret.key").path,
            "SWITCHBOARD_TEMPLATES": templates,
            "SWITCHBOARD_PUBLIC_URL": "http://127.0.0.1:8080",
            "SWITCHBOARD_API_TOKENS": apiToken,
            "FIVETRAN_BASE_URL": base.absoluteString,
            "FIVETRAN_API_KEY": fivetran.options.apiKey,
            "FIVETRAN_API_SECRET": fivetran.options.apiSecret,
            "FIVETRAN_GROUP_ID": fivetran.options.groupID,
            "FIVETRAN_CARD_HOST": "127.0.0.1",
        ]
        environment.merge(extra) { $1 }
        let services = try Services(configuration: Configuration(environment: environment), logger: Logger(label: "app-tests"))
        return AppHarness(folder: folder, fivetran: fivetran, services: services, app: try Application(services: services))
    }

    func stop() async {
        await fivetran.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// `templates/` of this checkout, found from this file's place in it.
    static let templates: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path

    // MARK: Requests

    /// One request through the responder, as nginx's `fastcgi_params` would describe it.
    func send(
        _ method: String, _ target: String, headers: [String: String] = [:], body: [UInt8] = [], user: String? = nil
    ) async -> Answer {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var params = [
            "REQUEST_METHOD": method, "SCRIPT_NAME": String(parts[0]), "QUERY_STRING": parts.count > 1 ? String(parts[1]) : "",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8080", "CONTENT_LENGTH": "\(body.count)",
        ]
        for (name, value) in headers {
            if name.lowercased() == "content-type" {
                params["CONTENT_TYPE"] = value
            } else {
                params["HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")] = value
            }
        }
        if let user { params["REMOTE_USER"] = user }
        let response = await respondOnItsOwnThread(FastCGIRequest(params: params, body: body))
        var bytes: [UInt8] = []
        switch response.body {
        case .bytes(let all): bytes = all
        case .parts(let parts): bytes = parts.flatMap { $0 }
        case .stream(let produce):
            let collected = Collected()
            produce { chunk in
                collected.bytes.append(contentsOf: chunk)
                return true
            }
            bytes = collected.bytes
        }
        return Answer(status: response.status, headers: response.headers, body: bytes)
    }

    /// As the FastCGI edge does it: a thread of its own runs the request's task (`RequestThread`),
    /// so handlers never block the cooperative pool the stand-in and the other tests run on.
    private func respondOnItsOwnThread(_ request: FastCGIRequest) async -> FastCGIResponse {
        let app = app
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: RequestThread().run { await app.respond(request) })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    func get(_ target: String, headers: [String: String] = [:], user: String? = nil) async -> Answer {
        await send("GET", target, headers: headers, user: user)
    }

    /// What a browser does: opens `page`, takes the CSRF cookie and the form's token, posts `fields`.
    func submit(_ fields: [(String, String)], to action: String, from page: String) async throws -> Answer {
        let form = await get(page)
        let cookie = try #require(form.header("Set-Cookie")?.split(separator: ";").first.map(String.init))
        let token = try #require(form.hiddenField(named: "_csrf"))
        let body = ([("_csrf", token)] + fields).map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        return await send(
            "POST", action, headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie],
            body: Array(body.utf8))
    }

    /// A request to `/api/…` with the harness's bearer token.
    func api(_ target: String, method: String = "GET", token: String = AppHarness.apiToken) async -> Answer {
        await send(method, target, headers: ["Authorization": "Bearer \(token)", "Accept": "application/json"])
    }

    private func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    private final class Collected: @unchecked Sendable {
        var bytes: [UInt8] = []
    }
}

/// A response as a test reads it.
struct Answer: Sendable {
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    /// The value of `<input type="hidden" name="NAME" value="…">`.
    func hiddenField(named name: String) -> String? {
        guard let start = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = text[start.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// How many times `needle` occurs.
    func count(_ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }
}
