import Foundation
import Model
import Store

/// `/settings`: the API tokens made here (by name and last four characters), the form for a
/// new one, and the new one itself, shown once.
struct SettingsPage: Sendable {
    struct Token: Sendable {
        let id: Int64
        let name: String
        /// Its last four characters.
        let hint: String
        let created: Stamp
        /// How long ago it was last used, or `never`.
        let lastUsed: String
        /// How long ago it was revoked; nil while it works.
        let revoked: String?
    }

    /// A token made by this request: the only time its secret is shown.
    struct NewToken: Sendable {
        let name: String
        let secret: String
    }

    let tokens: [Token]
    let hasTokens: Bool
    /// Tokens from `SWITCHBOARD_API_TOKENS`; nil when there are none (a 0 would still render
    /// its Mustache section).
    let environmentTokens: Int?
    /// This app's URL, for the `curl` example.
    let publicURL: String
    var newToken: NewToken?
    /// The new-token form: the name as typed, and what is wrong with it.
    var name = ""
    var nameError: String?

    init(tokens: [APITokenRecord], environmentTokens: Int, publicURL: String, now: Date) {
        self.tokens = tokens.map { token in
            Token(
                id: token.id, name: token.name, hint: token.hint, created: Stamp(token.createdAt, now: now),
                lastUsed: token.lastUsedAt.map { Format.ago($0, now: now) } ?? "never",
                revoked: token.revokedAt.map { Format.ago($0, now: now) })
        }
        hasTokens = !tokens.isEmpty
        self.environmentTokens = environmentTokens > 0 ? environmentTokens : nil
        self.publicURL = publicURL
    }
}
