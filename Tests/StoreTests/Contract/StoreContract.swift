import Foundation
import Model
import Store
import SwitchboardTesting
import Testing

/// What every store backend promises, written against the protocols only (`SwitchboardStore`),
/// so a new backend (PostgreSQL) is added by one line in `Backend.all` and must pass all of it.
/// Each concern is a suite of its own in this folder; every test runs once per backend.
@Suite("The store's contract") enum StoreContract {}

/// One backend under the contract: how to make a fresh, empty database of it.
struct Backend: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let fresh: @Sendable () throws -> FreshDatabase

    static let all: [Backend] = [.sqlite, .postgres]

    static let sqlite = Backend(testDescription: "SQLite") {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-contract-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("db.sqlite").path
        return FreshDatabase(
            open: { try SQLiteStore(path: path) },
            remove: { try? FileManager.default.removeItem(at: folder) })
    }

    /// A database of its own on this test process's throw-away cluster (`PostgresServer`), on
    /// the caller's clock so the tests can move time; dropped afterwards.
    static let postgres = Backend(testDescription: "PostgreSQL") {
        let (url, drop) = try PostgresServer.shared().freshDatabase()
        return FreshDatabase(open: { try PostgresStore(url: url, poolSize: 4, clock: .caller) }, remove: drop)
    }

    /// A store on a fresh database, removed afterwards.
    func withStore<T>(_ body: (any SwitchboardStore) async throws -> T) async throws -> T {
        try await withStores { one, _ in try await body(one) }
    }

    /// Two handles on one fresh database, standing in for two processes (or two hosts): what
    /// one writes the other reads, and they compete for the same jobs.
    func withStores<T>(_ body: (any SwitchboardStore, any SwitchboardStore) async throws -> T) async throws -> T {
        let database = try fresh()
        defer { database.remove() }
        return try await body(try database.open(), try database.open())
    }
}

/// A fresh database: each `open` is one more handle on the same data.
struct FreshDatabase: Sendable {
    let open: @Sendable () throws -> any SwitchboardStore
    let remove: @Sendable () -> Void
}

/// The same JSON value: a backend may keep documents as values (PostgreSQL's `jsonb`), so key
/// order and spacing are not part of the contract; the values are.
func sameJSON(_ stored: Data?, _ expected: String) -> Bool {
    guard let stored, let left = try? JSONSerialization.jsonObject(with: stored) as? NSDictionary,
        let right = try? JSONSerialization.jsonObject(with: Data(expected.utf8)) as? NSDictionary
    else { return false }
    return left == right
}

/// Fixed instants: a backend may keep times with less precision than `Date`, but whole seconds
/// survive any of them.
let t0 = Date(timeIntervalSince1970: 1_700_000_000)

func doc(_ key: String, _ body: String = "", time: Double? = nil) -> DocumentWrite {
    DocumentWrite(key: key, json: Data(#"{"id":"\#(key)"\#(body)}"#.utf8), sourceTime: time)
}

func checkpoint(_ name: String, _ value: String) -> CheckpointWrite {
    CheckpointWrite(name: name, state: Data(value.utf8))
}

func newCapture(
    _ name: String, prefix: String? = nil, resources: [String] = ["tags"], schedule: CaptureSchedule = .manual
) -> NewCapture {
    NewCapture(
        name: name, prefix: prefix ?? name.lowercased(), sealedToken: Data([1, 2, 3]), tokenHint: "wxyz", startDate: nil,
        resources: resources, schedule: schedule)
}

final class Shared<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
