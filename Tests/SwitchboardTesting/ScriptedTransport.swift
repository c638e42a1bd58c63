import Foundation
import Synchronization
import Transport

/// An `HTTPTransport` that answers from a script, one step per request, in order, and keeps
/// every request it was sent. Past the end of the script it answers 599, which the clients
/// treat as a server error, so a test that sends more than it scripted fails visibly.
public final class ScriptedTransport: HTTPTransport {
    public enum Step: Sendable {
        case reply(HTTPResponse)
        case fail(TransportError)

        /// A reply with a JSON body (and `Content-Type: application/json`).
        public static func json(_ text: String, status: Int = 200, headers: [String: String] = [:]) -> Step {
            .reply(.json(text, status: status, headers: headers))
        }
    }

    private let state: Mutex<(steps: [Step], requests: [HTTPRequest])>

    public init(_ steps: [Step]) {
        state = Mutex((steps, []))
    }

    /// What was sent so far, in order.
    public var requests: [HTTPRequest] { state.withLock { $0.requests } }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let step: Step? = state.withLock { state in
            state.requests.append(request)
            return state.steps.isEmpty ? nil : state.steps.removeFirst()
        }
        switch step {
        case .reply(let response): return response
        case .fail(let error): throw error
        case nil: return .json(#"{"code":"Script","message":"script ran out"}"#, status: 599)
        }
    }
}

extension HTTPResponse {
    /// A response with a JSON body; `headers` win over the `Content-Type` added.
    public static func json(_ text: String, status: Int = 200, headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: Data(text.utf8))
    }
}
