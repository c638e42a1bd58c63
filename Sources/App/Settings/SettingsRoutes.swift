import Foundation
import Model
import Store
import Web

/// `/settings`: API tokens for scripts — created (shown once), listed by name and last four
/// characters, revoked.
struct SettingsRoutes {
    let site: Site
    let access: StoreAccess

    func register(in router: inout Router) {
        router.get("/settings") { request in try await show(request) }
        router.post("/settings/tokens") { request in try await createToken(request) }
        router.post("/settings/tokens/{id}/revoke") { request in try await revokeToken(request) }
    }

    func show(_ request: Request) async throws -> Response {
        try render(try model(), request: request)
    }

    func createToken(_ request: Request) async throws -> Response {
        let name = (try request.form()["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else {
            var page = try model()
            page.name = name
            page.nameError = "Name the token after the script or person using it (up to 100 characters)."
            return try render(page, request: request, status: 422)
        }
        let secret = try access.read { try APITokenMaker.create(in: $0, name: name, by: request.remoteUser) }
        // Shown this once; only its hash is kept.
        var page = try model()
        page.newToken = SettingsPage.NewToken(name: name, secret: secret)
        var response = try render(page, request: request)
        // The one page that shows a secret: no cache, no back-button copy may keep it.
        response.setHeader("Cache-Control", "no-store")
        return response
    }

    func revokeToken(_ request: Request) async throws -> Response {
        guard let id = request[parameter: "id"].flatMap(Int64.init) else { throw HTTPError.notFound() }
        _ = try access.read { try $0.revokeAPIToken(id: id, by: request.remoteUser) }
        return .redirect(to: "/settings")
    }

    private func model() throws(HTTPError) -> SettingsPage {
        SettingsPage(
            tokens: try access.read { try $0.apiTokens() }, environmentTokens: site.configuration.apiTokens.count,
            publicURL: site.configuration.publicURL, now: Date())
    }

    private func render(_ page: SettingsPage, request: Request, status: Int = 200) throws -> Response {
        try site.page("settings", title: "Settings", section: .settings, model: page, request: request, status: status)
    }
}

/// Makes API tokens: `sb_` and 32 random bytes, base64url. Only the SHA-256 is stored.
public enum APITokenMaker {
    /// `actor`: who the audit names as its maker (the page's visitor, `cli:<user>`).
    public static func create(in store: any APITokenStore, name: String, by actor: String?) throws(StoreError) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = "sb_" + Base64URL.encode(bytes)
        _ = try store.insertAPIToken(name: name, sha256: sha256Hex(token), hint: String(token.suffix(4)), by: actor)
        return token
    }
}
