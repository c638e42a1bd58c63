import Foundation
import Synchronization
import Transport

/// An `HTTPTransport` that answers from a script, in order, and records what was sent.
final class ScriptedTransport: HTTPTransport {
    enum Step: Sendable {
        case reply(HTTPResponse)
        case fail(TransportError)
    }

    private let state: Mutex<(steps: [Step], sent: [HTTPRequest])>

    init(_ steps: [Step]) {
        state = Mutex((steps, []))
    }

    var sent: [HTTPRequest] { state.withLock { $0.sent } }
    var remaining: Int { state.withLock { $0.steps.count } }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let step: Step? = state.withLock { state in
            state.sent.append(request)
            return state.steps.isEmpty ? nil : state.steps.removeFirst()
        }
        switch step {
        case .reply(let response): return response
        case .fail(let error): throw error
        case nil: return HTTPResponse(status: 599, body: Data(#"{"code":"Script","message":"script ran out"}"#.utf8))
        }
    }
}

/// Records the waits the client asked for instead of sleeping, and moves a fake clock.
final class FakeClock: Sendable {
    private let state = Mutex<(offset: Duration, sleeps: [Duration])>((.zero, []))
    let start = ContinuousClock.now

    var sleeps: [Duration] { state.withLock { $0.sleeps } }
    func now() -> ContinuousClock.Instant { start.advanced(by: state.withLock { $0.offset }) }
    func sleep(_ duration: Duration) {
        state.withLock {
            $0.sleeps.append(duration)
            $0.offset += duration
        }
    }
}

extension HTTPResponse {
    static func json(_ text: String, status: Int = 200, headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a }, body: Data(text.utf8))
    }
}

extension ScriptedTransport.Step {
    static func json(_ text: String, status: Int = 200, headers: [String: String] = [:]) -> Self {
        .reply(.json(text, status: status, headers: headers))
    }
}
