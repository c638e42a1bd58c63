import Crypto
import Foundation
import Mustache
import Synchronization

/// Cross-site request forgery guard: a signed random token in a cookie and in each form's
/// hidden field. A POST passes only when both are present, equal, and signed with our key, so
/// a cookie planted by another site (or a guess) does not pass. The key comes from the secret
/// key file, so every worker process (and a restarted one) accepts the same tokens.
public struct CSRF: Sendable {
    public static let fieldName = "_csrf"
    /// Scripts that post without a form (the sample's client) may send the token here instead.
    public static let headerName = "x-csrf-token"
    /// `sb_csrf`, or `__Host-sb_csrf` over https: a cookie with that prefix is only accepted
    /// from a secure origin, for this host alone, so a sibling subdomain cannot plant one.
    public let cookieName: String
    /// Over https the cookie is `Secure` (and `__Host-` prefixed).
    public let secure: Bool
    /// The derived signing key's bytes (swift-crypto's `SymmetricKey` is not `Sendable`).
    private let keyBytes: [UInt8]

    public init(secret: some ContiguousBytes, secure: Bool = false) {
        let master = SymmetricKey(data: secret)
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: master, info: Data("switchboard csrf v1".utf8), outputByteCount: 32)
        keyBytes = key.withUnsafeBytes { Array($0) }
        self.secure = secure
        cookieName = secure ? "__Host-sb_csrf" : "sb_csrf"
    }

    /// The `Set-Cookie` value for a newly issued token.
    public func setCookie(_ token: String) -> String {
        Cookies.setCookie(name: cookieName, value: token, secure: secure)
    }

    /// A fresh token: 16 random bytes and their MAC, base64url.
    public func issue() -> String {
        var nonce = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = generator.next() }
        return Base64URL.encode(nonce + mac(nonce))
    }

    public func isValid(_ token: String) -> Bool {
        guard let bytes = Base64URL.decode(token), bytes.count == 48 else { return false }
        let nonce = Array(bytes.prefix(16))
        let expected = mac(nonce)
        // Constant-time comparison.
        return zip(expected, bytes.suffix(32)).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Whether a form POST carries a valid token in both places.
    public func check(cookie: String?, field: String?) -> Bool {
        guard let cookie, let field, cookie == field else { return false }
        return isValid(cookie)
    }

    private func mac(_ bytes: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: keyBytes)))
    }
}

/// The CSRF token of one request, issued only if something renders it (`{{csrf}}` in a form):
/// pages without forms cost no signing and set no cookie.
public final class CSRFToken: Sendable, MustacheCustomRenderable {
    private let state: Mutex<(value: String?, issued: Bool)>
    private let guardian: CSRF?

    /// A token already valid in the request's cookie, or a fresh one to be issued on first use.
    init(existing: String?, issuer: CSRF?) {
        state = Mutex((existing, false))
        guardian = issuer
    }

    /// A fixed token (tests build requests with one).
    public convenience init(_ value: String = "") { self.init(existing: value, issuer: nil) }

    public var value: String {
        state.withLock { state in
            if let value = state.value { return value }
            let value = guardian?.issue() ?? ""
            state = (value, true)
            return value
        }
    }

    /// True when this request minted a new token, which the response must set as a cookie.
    public var issuedNew: Bool { state.withLock { $0.issued } }

    public var renderText: String { value }
    public var isNull: Bool { false }
}
