import Foundation

/// What went wrong talking to Fivetran, by what the caller can do about it. Each case carries
/// Fivetran's own `message` where it sent one. Never holds the API key or secret.
public enum FivetranError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400: a field is missing or invalid (the message names it).
    case badRequest(message: String?)
    /// 401: the key or secret is wrong, or the header is missing.
    case unauthorized(message: String?)
    /// 403: the key is valid but not allowed to do this.
    case forbidden(message: String?)
    /// 404: no such group/connection, or this API path is not served (legacy paths).
    case notFound(message: String?)
    /// 409: conflicts with the current state, e.g. a schema name already used in the group.
    case conflict(message: String?)
    /// 429 still after the allowed retries, or a wait that would pass the caller's deadline.
    case rateLimited(retryAfter: Duration?, message: String?)
    /// 5xx after the allowed retries.
    case server(status: Int, message: String?)
    /// Any other status (405, 406, 415, …).
    case unexpectedStatus(status: Int, message: String?)
    /// No HTTP answer at all (connection refused, DNS, timeout) after the allowed retries.
    case unreachable(reason: String)
    /// A 2xx whose body is not what the route returns.
    case malformedResponse(route: String, reason: String)
    /// The calling task was cancelled while waiting to retry.
    case cancelled

    /// The HTTP status behind this error, if there was one.
    public var status: Int? {
        switch self {
        case .badRequest: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .rateLimited: 429
        case .server(let status, _), .unexpectedStatus(let status, _): status
        case .unreachable, .malformedResponse, .cancelled: nil
        }
    }

    /// Fivetran's own message, if it sent one.
    public var message: String? {
        switch self {
        case .badRequest(let message), .unauthorized(let message), .forbidden(let message),
            .notFound(let message), .conflict(let message), .rateLimited(_, let message),
            .server(_, let message), .unexpectedStatus(_, let message):
            message
        case .unreachable, .malformedResponse, .cancelled: nil
        }
    }

    public var description: String {
        let said = message.map { ": \($0)" } ?? ""
        switch self {
        case .badRequest:
            return "Fivetran refused the request as invalid (400)\(said)"
        case .unauthorized:
            return "Fivetran rejected the API key or secret (401)\(said). Check FIVETRAN_API_KEY and FIVETRAN_API_SECRET."
        case .forbidden:
            return
                "The Fivetran API key is not permitted to do this (403)\(said). Use a key whose user or role may manage this group."
        case .notFound:
            return
                "Fivetran has no such resource (404)\(said). Check FIVETRAN_GROUP_ID and the connection id; if every call fails this way, the API paths may have moved (try the other path style)."
        case .conflict:
            return
                "Fivetran reports a conflict (409)\(said). For a new connection this usually means the schema name is already used in the group; pick another name."
        case .rateLimited(let retryAfter, _):
            let wait = retryAfter.map { " Try again in \($0.components.seconds) s." } ?? " Try again later."
            return "Fivetran's rate limit was reached (429)\(said).\(wait)"
        case .server(let status, _):
            return "Fivetran failed with a server error (\(status))\(said). It was retried; try again later."
        case .unexpectedStatus(let status, _):
            return "Fivetran answered with HTTP \(status)\(said)."
        case .unreachable(let reason):
            return "Cannot reach Fivetran: \(reason). Check FIVETRAN_BASE_URL and the network."
        case .malformedResponse(let route, let reason):
            return "Fivetran's answer to \(route) could not be read: \(reason)."
        case .cancelled:
            return "The request to Fivetran was cancelled."
        }
    }

    /// Maps a non-2xx answer to its case; `message` is the `message` of Fivetran's `{"code","message"}`.
    static func from(status: Int, message: String?, retryAfter: Duration?) -> FivetranError {
        switch status {
        case 400: .badRequest(message: message)
        case 401: .unauthorized(message: message)
        case 403: .forbidden(message: message)
        case 404: .notFound(message: message)
        case 409: .conflict(message: message)
        case 429: .rateLimited(retryAfter: retryAfter, message: message)
        case 500...599: .server(status: status, message: message)
        default: .unexpectedStatus(status: status, message: message)
        }
    }
}
