import Fivetran
import Foundation
import Logging
import Model
import Store
import Synchronization

// One connector: reading it for its page (from the kept list when it is fresh), and the
// changes an admin makes to it (sync, pause, resume, frequency, delete), each recorded in the
// audit once Fivetran answered and followed by a refresh of the kept list.

/// What an admin changes on one connector, as Fivetran is asked it and as the audit records it.
enum ConnectorChange: Sendable, Equatable {
    case sync
    case pause
    case resume
    case frequency(Int)
    /// The API's PATCH: either or both.
    case settings(paused: Bool?, frequency: Int?)
    case delete

    var action: AuditAction {
        switch self {
        case .sync: .connectorSynced
        case .pause, .resume, .frequency, .settings: .connectorChanged
        case .delete: .connectorDeleted
        }
    }

    /// What changed, in the audit's words.
    var detail: String? {
        switch self {
        case .sync: "sync requested"
        case .pause: "paused: true"
        case .resume: "paused: false"
        case .frequency(let minutes): "sync_frequency: \(minutes)"
        case .settings(let paused, let frequency):
            [paused.map { "paused: \($0)" }, frequency.map { "sync_frequency: \($0)" }].compactMap { $0 }.joined(separator: ", ")
        case .delete: nil
        }
    }
}

/// One connector for its page: the connection with its display name, and where it was read.
struct ConnectorDetail: Sendable {
    let row: ConnectorRow
    let fetchedAt: Date
    /// Read from the kept list (no call to Fivetran for this view).
    let fromList: Bool
}

/// A connector Fivetran no longer has (404): its page says so and links back.
struct ConnectorGone: Error, Sendable {
    let id: String
    let message: String?
}

/// Single connections read with `GET /v1/connections/{id}`, kept a few seconds so a page
/// reloaded (or a form sent back) does not call Fivetran again; "gone" is kept too.
final class DetailCache: Sendable {
    enum Entry: Sendable {
        case found(Connection)
        case gone(message: String?)
    }

    private let ttl: TimeInterval
    private let entries = Mutex<[String: (at: Date, entry: Entry)]>([:])

    init(ttl: Duration) {
        self.ttl = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
    }

    func get(_ id: String, now: Date = Date()) -> (at: Date, entry: Entry)? {
        entries.withLock { entries in
            guard let kept = entries[id], now.timeIntervalSince(kept.at) < ttl else { return nil }
            return kept
        }
    }

    func set(_ id: String, _ entry: Entry, now: Date = Date()) {
        guard ttl > 0 else { return }
        entries.withLock { entries in
            if entries.count > 1024 { entries.removeAll(keepingCapacity: true) }
            entries[id] = (now, entry)
        }
    }

    func drop(_ id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }
}

extension ConnectorDirectory {
    /// The kept list is fresh: fetched within two refresh periods and its last refresh worked.
    func isFresh(_ snapshot: Refreshed<[ConnectorRow]>.Snapshot, now: Date = Date()) -> Bool {
        let ttl = Double(settings.connectionsTTL.components.seconds)
        return snapshot.refreshError == nil && ttl > 0 && now.timeIntervalSince(snapshot.fetchedAt) <= 2 * ttl + 5
    }

    /// The connector with this id: from the kept list when it is fresh and lists it (no call to
    /// Fivetran), else one `GET` kept a few seconds. Throws `ConnectorGone` on Fivetran's 404.
    func detail(id: String) async throws -> ConnectorDetail {
        let snapshot = try await connections.current()
        if isFresh(snapshot), let row = snapshot.value.first(where: { $0.connection.id == id }) {
            return ConnectorDetail(row: row, fetchedAt: snapshot.fetchedAt, fromList: true)
        }
        let name = { (connection: Connection) in
            ConnectorRow(connection: connection, displayName: ((try? self.names.connectorNames()) ?? [:])[connection.id])
        }
        if let kept = details.get(id) {
            switch kept.entry {
            case .found(let connection): return ConnectorDetail(row: name(connection), fetchedAt: kept.at, fromList: false)
            case .gone(let message): throw ConnectorGone(id: id, message: message)
            }
        }
        do {
            let connection = try await self.connection(id: id)
            guard connection.groupID.isEmpty || connection.groupID == settings.groupID else {
                // Another group's connection: as far as this console goes, there is none.
                details.set(id, .gone(message: nil))
                throw ConnectorGone(id: id, message: nil)
            }
            details.set(id, .found(connection))
            return ConnectorDetail(row: name(connection), fetchedAt: Date(), fromList: false)
        } catch FivetranError.notFound(let message) {
            details.set(id, .gone(message: message))
            throw ConnectorGone(id: id, message: message)
        }
    }

    /// Asks Fivetran for `change`, records the outcome in the audit (as `actor`), and refreshes
    /// the kept list so every page shows the new state at once. Fivetran's error is rethrown
    /// after it was recorded; a failing audit write is logged and never fails the change.
    func perform(_ change: ConnectorChange, id: String, actor: String?) async throws {
        let object = "connector:\(id)"
        do {
            try await liveCalls.run { [client] in
                switch change {
                case .sync: try await client.syncConnection(id: id)
                case .pause: _ = try await client.updateConnection(id: id, paused: true)
                case .resume: _ = try await client.updateConnection(id: id, paused: false)
                case .frequency(let minutes): _ = try await client.updateConnection(id: id, syncFrequency: minutes)
                case .settings(let paused, let frequency):
                    _ = try await client.updateConnection(id: id, paused: paused, syncFrequency: frequency)
                case .delete: try await client.deleteConnection(id: id)
                }
            }
        } catch let error as FivetranError {
            record(
                NewAuditEntry(
                    actor: actor, action: change.action, object: object, detail: change.detail, error: error.description))
            if case .notFound = error { details.set(id, .gone(message: error.message)) }
            throw error
        }
        record(NewAuditEntry(actor: actor, action: change.action, object: object, detail: change.detail))
        details.drop(id)
        if change == .delete {
            // The display name goes with it; a failure costs only a stale row, so it is logged.
            do {
                try names.removeConnectorName(for: id)
            } catch {
                logger.warning("could not forget the deleted connector's display name: \(error)")
            }
            details.set(id, .gone(message: "Connector with id '\(id)' was deleted."))
        }
        await refreshConnections()
    }

    /// Appends to the audit; a failure is logged, never thrown (the change itself is done).
    func record(_ entry: NewAuditEntry) {
        do {
            try audit.appendAudit(entry)
        } catch {
            logger.warning(
                "could not write the audit entry", metadata: ["action": "\(entry.action.rawValue)", "object": "\(entry.object)"])
        }
    }

    /// The connector's latest audit entries, newest first; none when the audit cannot be read.
    func auditEntries(of id: String, action: AuditAction? = nil, limit: Int = 10) -> [AuditEntry] {
        (try? audit.auditEntries(AuditFilter(object: "connector:\(id)", action: action, limit: limit))) ?? []
    }
}
