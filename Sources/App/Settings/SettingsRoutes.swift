import Foundation
import Store
import Web

/// `/settings`: API tokens for scripts — created (shown once), listed by name and last four
/// characters, revoked.
struct SettingsRoutes {
    let context: CaptureContext

    func register(in router: inout Router) {
        router.get("/settings") { [context] request in
            try Self.page(context, request, values: [:])
        }
        router.post("/settings/tokens") { [context] request in
            let name = (try request.form()["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, name.count <= 100 else {
                return try Self.page(
                    context, request, values: ["name_error": "Name the token after the script or person using it (up to 100 characters).",
                                               "name": name],
                    status: 422)
            }
            let token: String
            do { token = try APITokenMaker.create(in: context.store, name: name) } catch {
                throw context.storeFailure(error)
            }
            // Shown this once; only its hash is kept.
            var response = try Self.page(context, request, values: ["new_token": token, "new_token_name": name])
            // The one page that shows a secret: no cache, no back-button copy may keep it.
            response.setHeader("Cache-Control", "no-store")
            return response
        }
        router.post("/settings/tokens/{id}/revoke") { [context] request in
            guard let id = request[parameter: "id"].flatMap(Int64.init) else { throw HTTPError.notFound() }
            do { try context.store.revokeAPIToken(id: id) } catch { throw context.storeFailure(error) }
            return .redirect(to: "/settings")
        }
    }

    private static func page(_ context: CaptureContext, _ request: Request, values: [String: Any], status: Int = 200) throws
        -> Response
    {
        let tokens: [APITokenRecord]
        do { tokens = try context.store.apiTokens() } catch { throw context.storeFailure(error) }
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
        all["env_tokens"] = context.configuration.apiTokens.count
        all["public_url"] = context.configuration.publicURL
        return try context.site.page("settings", title: "Settings", section: "settings", values: all, request: request, status: status)
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
