import Foundation
import Front
import Store

/// One binding kind's paging and bookkeeping as a value, the async-http-client way: the engine
/// asks for the next request, fetches it, hands the page back and commits the step it answers.
/// No I/O, no clock, no store inside, so every decision is tested by feeding pages.
public protocol BindingStateMachine: Sendable {
    /// The collection its requests and pages count under.
    var owner: String { get }
    /// Every collection it writes (the event feed can write events and conversations).
    var collections: [String] { get }
    /// The request to send next; nil when there is nothing more to read now.
    func nextRequest() -> FrontRequest?
    /// Takes the answer to `nextRequest()`.
    mutating func received(_ page: FrontPage) throws(CaptureError) -> Step
}

/// What one page comes to.
public struct Step: Sendable, Equatable {
    /// Committed in one transaction: the documents, deletions and the checkpoints that cover them.
    public var changes: [CollectionChanges]
    /// Each collection's position after this page, in milliseconds (how far in time it has
    /// read); a collection without one (a snapshot) is absent.
    public var positions: [String: Millis]

    public init(changes: [CollectionChanges], positions: [String: Millis] = [:]) {
        self.changes = changes
        self.positions = positions
    }
}

/// Checkpoints are JSON with sorted keys, so an unchanged state is byte for byte the same.
enum Checkpoint {
    static func write(_ name: String, _ value: some Encodable) throws(CaptureError) -> CheckpointWrite {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return CheckpointWrite(name: name, state: try encoder.encode(value))
        } catch {
            throw .badCheckpoint(name: name, detail: String(describing: error))
        }
    }

    static func read<T: Decodable>(_ data: Data?, name: String, as type: T.Type) throws(CaptureError) -> T? {
        guard let data else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .badCheckpoint(name: name, detail: String(describing: error))
        }
    }
}

extension FrontDocument {
    /// The document as stored: keyed by its id, its own time deciding between two versions.
    var write: DocumentWrite { DocumentWrite(key: id, json: json, sourceTime: updatedAt) }
}
