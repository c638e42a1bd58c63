import Crypto
import Foundation
import Model
import Store
import Web

/// Who is calling `/api/`: an environment token (`SWITCHBOARD_API_TOKENS`) or one made on
/// /settings, checked in constant time; unknown tokens are counted per address and, past the
/// throttle's limit, answered 429 before any check.
struct BearerAuthentication: Sendable {
    /// The environment's tokens.
    let tokens: [String]
    let access: StoreAccess
    /// Unknown bearer tokens per client address, so a guesser is slowed down (429).
    let failures: FailureThrottle

    /// The caller's name: `env-N` for the environment's Nth token, or the stored token's name.
    func caller(_ request: Request) throws(HTTPError) -> String {
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") else {
            throw Self.unauthorized("Send an API token as Authorization: Bearer <token>. Create one on /settings.")
        }
        let address = request.remoteAddress ?? "-"
        if let wait = failures.retryAfter(address) {
            throw HTTPError(
                status: 429, title: "Too many failed token checks",
                message: "Too many unknown API tokens came from this address. Wait \(wait) seconds, then use a valid token.",
                headers: ["Retry-After": "\(wait)"])
        }
        let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        let presented = Array(token.utf8)
        for (index, known) in tokens.enumerated() where constantTimeEqual(Array(known.utf8), presented) {
            return "env-\(index + 1)"
        }
        guard let record = try access.read({ try $0.useAPIToken(sha256: sha256Hex(token)) }) else {
            failures.failed(address)
            throw Self.unauthorized("This API token is unknown or was revoked. Create a new one on /settings.")
        }
        return record.name
    }

    /// Who the audit (and a job's "requested by") names for this call: nginx's `REMOTE_USER`
    /// when nginx authenticated the caller, else `api:<token name>`. Checks the token first.
    func actor(_ request: Request) throws(HTTPError) -> String {
        let caller = try caller(request)
        return request.remoteUser.flatMap { $0.isEmpty ? nil : $0 } ?? "api:\(caller)"
    }

    private static func unauthorized(_ message: String) -> HTTPError {
        HTTPError(
            status: 401, title: "Unauthorized", message: message, headers: ["WWW-Authenticate": "Bearer realm=\"switchboard\""])
    }
}

/// How a token is kept: its SHA-256, in hex (settings store it, the API looks it up).
func sha256Hex(_ text: String) -> String {
    SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}
