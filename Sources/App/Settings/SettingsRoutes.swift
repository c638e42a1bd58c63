import Foundation
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
        try page(request, values: [:])
    }

    func createToken(_ request: Request) async throws -> Response {
        let name = (try request.form()["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else {
            return try page(
                request, values: ["name_error": "Name the token after the script or person using it (up to 100 characters).",
                                  "name": name],
                status: 422)
        }
        let token = try access.read { try APITokenMaker.create(in: $0, name: name) }
        // Shown this once; only its hash is kept.
        var response = try page(request, values: ["new_token": token, "new_token_name": name])
        // The one page that shows a secret: no cache, no back-button copy may keep it.
        response.setHeader("Cache-Control", "no-store")
        return response
    }

    func revokeToken(_ request: Request) async throws -> Response {
        guard let id = request[parameter: "id"].flatMap(Int64.init) else { throw HTTPError.notFound() }
        _ = try access.read { try $0.revokeAPIToken(id: id) }
        return .redirect(to: "/settings")
    }

    private func page(_ request: Request, values: [String: Any], status: Int = 200) throws -> Response {
        let tokens = try access.read { try $0.apiTokens() }
        var all = values
        all["tokens"] = tokens.map { token -> [String: Any] in
            [
                "id": token.id, "name": token.name, "hint": token.hint,
                "created": Format.rfc3339(token.createdAt) ?? "", "created_ago": Format.ago(token.createdAt),
                "last_used": token.lastUsedAt.map { Format.ago($0) } ?? "never",
                "revoked": token.revokedAt != nil, "revoked_ago": token.revokedAt.map { Format.ago($0) } ?? "",
            ]
        }
        all["has_tokens"] = !tokens.isEmpty
        all["env_tokens"] = site.configuration.apiTokens.count
        all["public_url"] = site.configuration.publicURL
        return try site.page("settings", title: "Settings", section: "settings", values: all, request: request, status: status)
    }
}

/// Makes API tokens: `sb_` and 32 random bytes, base64url. Only the SHA-256 is stored.
public enum APITokenMaker {
    public static func create(in store: Store, name: String) throws(StoreError) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = "sb_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        _ = try store.insertAPIToken(name: name, sha256: sha256Hex(token), hint: String(token.suffix(4)))
        return token
    }
}
