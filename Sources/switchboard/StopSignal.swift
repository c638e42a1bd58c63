import Dispatch
import Foundation

/// Suspends until SIGTERM or SIGINT arrives (`switchboard jobs` stops on it). `switchboard-sandbox`
/// has a twin: the two programs share no target that could hold it.
func waitForStopSignal() async {
    let sources = [SIGTERM, SIGINT].map { number in
        signal(number, SIG_IGN)
        return DispatchSource.makeSignalSource(signal: number, queue: .global())
    }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let once = OnceFlag()
        for source in sources {
            source.setEventHandler { if once.claim() { continuation.resume() } }
            source.resume()
        }
    }
    sources.forEach { $0.cancel() }
}

/// Both signal sources may fire; the continuation must be resumed once.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed { return false }
        claimed = true
        return true
    }
}
