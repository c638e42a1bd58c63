import Foundation
import Transport

/// A Front API token. Its text is only ever put into the `Authorization` header: printing,
/// interpolating, dumping or mirroring it shows a placeholder.
public struct FrontToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    fileprivate let secret: String

    /// nil when the text is empty or only spaces.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        secret = trimmed
    }

    var authorization: String { "Bearer \(secret)" }

    public var description: String { "FrontToken(redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// Why a Front request failed, with what a person needs to act on it. Never contains the token.
public enum FrontError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 401: the token is wrong, expired or revoked.
    case unauthorized(route: String, message: String)
    /// 403: the token works but lacks the scope this route needs.
    case forbidden(route: String, scope: String, message: String)
    /// Any other 4xx: Front refused the request as made.
    case rejected(route: String, status: Int, message: String)
    /// 5xx, timeouts or broken connections, still failing after every retry.
    case unavailable(route: String, attempts: Int, last: String)
    /// 429s kept coming past the retry bound.
    case rateLimited(route: String, attempts: Int)
    /// The answer was not the JSON a Front list sends.
    case malformed(route: String, detail: String)
    /// The task was cancelled while waiting or sending.
    case cancelled

    public var description: String {
        switch self {
        case .unauthorized(let route, let message):
            "Front refused the token on GET \(route) (401 \(message)): the token is wrong, expired or revoked; create one under Settings → Developers → API tokens"
        case .forbidden(let route, let scope, let message):
            "Front refused GET \(route) (403 \(message)): the token lacks the scope \(scope)"
        case .rejected(let route, let status, let message):
            "Front refused GET \(route) (\(status) \(message))"
        case .unavailable(let route, let attempts, let last):
            "Front did not answer GET \(route) after \(attempts) attempts: \(last)"
        case .rateLimited(let route, let attempts):
            "Front kept answering 429 to GET \(route) after \(attempts) attempts"
        case .malformed(let route, let detail):
            "Front's answer to GET \(route) is not what its API sends: \(detail)"
        case .cancelled:
            "cancelled"
        }
    }

    /// Stops the whole capture rather than one binding: nothing else can succeed with this token.
    public var isCredentialProblem: Bool {
        switch self {
        case .unauthorized, .forbidden: true
        default: false
        }
    }

    /// The scope a route needs, per the spec's `x-required-scopes`.
    public static func scope(for route: RouteClass) -> String {
        switch route.resource {
        case "events": "events:*:read"
        case "": "(unknown)"
        default: "\(route.resource):read"
        }
    }
}
