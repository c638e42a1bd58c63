import Foundation
import Model
import Store
import SwitchboardTesting
import Testing

/// What only the PostgreSQL backend has to show (the contract suite covers the rest): hosts that
/// start together migrate once, leases run on the database's clock, the URL's password stays out
/// of messages, and `switchboard migrate`'s copy moves everything or nothing.
@Suite("PostgreSQL store") struct PostgresStoreTests {
    @Test("hosts that start together apply each migration once")
    func migrationsUnderTheAdvisoryLock() async throws {
        let (url, drop) = try PostgresServer.shared().freshDatabase()
        defer { drop() }
        let stores = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask { try PostgresStore(url: url, poolSize: 1).appliedMigrations() }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        #expect(Set(stores).count == 1)
        #expect(stores.first == [1])
    }

    @Test("a lease is measured on the database's clock, whatever time the host believes it is")
    func leasesOnTheDatabaseClock() throws {
        let (url, drop) = try PostgresServer.shared().freshDatabase()
        defer { drop() }
        let store = try PostgresStore(url: url, poolSize: 2)
        let capture = try store.insertCapture(newCapture("Acme"))
        _ = try store.enqueueJob(captureID: capture.id, requestedBy: nil, bindings: [])
        // A host whose clock is an hour fast claims the job…
        let fast = Date().addingTimeInterval(3600)
        let job = try #require(try store.claimJob(token: "fast", leaseFor: .seconds(30), at: fast))
        let expires = try #require(job.life.lease?.expiresAt)
        #expect(abs(expires.timeIntervalSinceNow - 30) < 20, "lease ends \(expires), not 30 s from the server's now")
        // …and a host whose clock is an hour fast too cannot take it over: the lease holds on
        // the server's clock.
        #expect(try store.claimJob(token: "other", leaseFor: .seconds(30), at: fast.addingTimeInterval(60)) == nil)
    }

    @Test("a URL that is not one is refused in words, and a password never shows in an error")
    func badURLAndNoPasswordInErrors() throws {
        #expect(throws: StoreError.self) { try PostgresStore(url: "mysql://nope") }
        do {
            // Nothing listens on port 1.
            _ = try PostgresStore(url: "postgres://app:s3cret-pw@127.0.0.1:1/app?sslmode=disable")
            Issue.record("connected to nothing")
        } catch {
            let text = String(describing: error)
            #expect(!text.contains("s3cret-pw"))
            #expect(text.contains("127.0.0.1:1"))
        }
    }

    @Test("the copy from SQLite moves every table with its ids; a second copy into the same database is refused")
    func copyFromSQLite() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-copy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let sqlite = try SQLiteStore(path: folder.appendingPathComponent("db.sqlite").path)
        let capture = try sqlite.insertCapture(newCapture("Acme", resources: ["tags", "contacts"], schedule: .standard))
        try await sqlite.commit(
            CollectionChanges(
                collection: "acme/tags", upserts: (1...1_234).map { doc("tag_\($0)", #","n":\#($0)"#, time: Double($0)) },
                deletions: .none, checkpoints: [checkpoint("acme/tags", "cursor-9")]))
        try await sqlite.commit(CollectionChanges(collection: "acme/tags", deletions: .keys(["tag_7"])))
        guard case .queued(let queued) = try sqlite.enqueueJob(captureID: capture.id, requestedBy: "ann", bindings: []) else {
            Issue.record("not queued")
            return
        }
        let token = try sqlite.insertAPIToken(name: "cron", sha256: "abc", hint: "…wxyz", by: "ann", at: t0)
        try sqlite.setConnectorName("Sales DB", for: "conn_1", by: "ann", at: t0)

        let (url, drop) = try PostgresServer.shared().freshDatabase()
        defer { drop() }
        let postgres = try PostgresStore(url: url, poolSize: 2, clock: .caller)
        let counts = try postgres.copy(from: sqlite, batch: 100)
        #expect(counts.allSatisfy { $0.matches })
        #expect(counts.first { $0.table == "document" }?.copied == 1_234)

        #expect(try postgres.captures() == sqlite.captures())
        #expect(try postgres.job(id: queued.id) == sqlite.job(id: queued.id))
        #expect(try postgres.checkpoint(named: "acme/tags") == Data("cursor-9".utf8))
        #expect(try postgres.document(in: "acme/tags", key: "tag_7")?.deleted == true)
        #expect(try postgres.collections() == sqlite.collections())
        #expect(try postgres.apiTokens() == sqlite.apiTokens())
        #expect(try postgres.useAPIToken(sha256: "abc", at: t0)?.id == token.id)
        #expect(try postgres.connectorNames() == ["conn_1": "Sales DB"])
        #expect(try postgres.auditEntries(AuditFilter(limit: 100)) == sqlite.auditEntries(AuditFilter(limit: 100)))
        // The ids go on from the copied ones.
        let next = try postgres.insertCapture(newCapture("Beta"))
        #expect(next.id == capture.id + 1)

        #expect {
            try postgres.copy(from: sqlite)
        } throws: { error in
            String(describing: error).contains("not empty")
        }
    }
}
